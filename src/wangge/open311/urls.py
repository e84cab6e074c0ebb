"""/open311/v2/: the GeoReport v2 endpoints, each as .json or .xml (the format is checked
by the view so a wrong one is answered in the spec's error shape, not an HTML 404)."""

from django.urls import path

from wangge.open311 import views

app_name = "open311"

urlpatterns: list = [
    path("discovery.<str:fmt>", views.discovery, name="discovery"),
    path("services.<str:fmt>", views.services, name="services"),
    path("services/<str:code>.<str:fmt>", views.service_definition, name="service"),
    path("requests.<str:fmt>", views.requests, name="requests"),
    path("requests/<str:request_id>.<str:fmt>", views.request_one, name="request"),
    path("tokens/<str:token>.<str:fmt>", views.token, name="token"),
]
