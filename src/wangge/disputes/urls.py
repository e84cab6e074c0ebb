"""The console's dispute pages under /console/disputes/ (views.py, views_figures.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from wangge.disputes import views, views_figures

app_name = "disputes"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("alerts/<int:pk>/seen/", views.alert_seen, name="alert_seen"),
    path("coverage/", views_figures.coverage, name="coverage"),
    path("workload/", views_figures.workload, name="workload"),
    path("<int:pk>/", views.dispute_page, name="dispute"),
    path("<int:pk>/agreement/", views.agreement_page, name="agreement"),
    path("<int:pk>/signatures/<int:sig_pk>/", views.signature_image, name="signature"),
    path("<int:pk>/parties/<int:party_pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/<slug:step>/", views.step_view, name="step"),
]
