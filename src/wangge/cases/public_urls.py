"""/report/: residents report a problem (from a QR page or directly)."""

from django.urls import path

from wangge.cases import views_report

app_name = "report"

urlpatterns = [
    path("", views_report.report, name="form"),
    path("done/", views_report.done, name="done"),
    path("nearby.json", views_report.nearby, name="nearby"),
    path("follow/", views_report.follow, name="follow"),
]
