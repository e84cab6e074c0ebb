"""What external systems call (docs/external-systems.md): status call-backs and orders."""

from django.urls import path  # noqa: F401 (the inbound slice fills this in)

app_name = "integration_inbound"

urlpatterns: list = []
