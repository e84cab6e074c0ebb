"""The console's figures: /console/analytics/… (each view module is one page's owner)."""

from django.urls import path

from wangge.analytics import views_cockpit, views_hotspots, views_metrics, views_report

app_name = "analytics"

urlpatterns = [
    path("", views_metrics.metrics_page, name="metrics"),
    path("rankings/", views_metrics.rankings_page, name="rankings"),
    path("hotspots/", views_hotspots.hotspots_page, name="hotspots"),
    path("cockpit/", views_cockpit.cockpit, name="cockpit"),
    path("cockpit/data", views_cockpit.cockpit_data, name="cockpit_data"),
    path("reports/", views_report.report_list, name="reports"),
    path("reports/<str:month>/", views_report.report_page, name="report"),
    path("reports/<str:month>/pdf", views_report.report_pdf, name="report_pdf"),
]
