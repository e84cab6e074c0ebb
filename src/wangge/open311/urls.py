"""/open311/v2/: the GeoReport v2 endpoints (filled in by views.py)."""

from django.urls import path

from wangge.open311 import views

app_name = "open311"

urlpatterns: list = [
    path("discovery.<str:fmt>", views.discovery, name="discovery"),
]
