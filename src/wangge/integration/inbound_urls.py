"""What external systems call (docs/external-systems.md): status call-backs and orders."""

from django.urls import path

from wangge.integration import inbound

app_name = "integration_inbound"

urlpatterns = [
    path("<slug:code>/callbacks", inbound.callbacks, name="callbacks"),
    path("<slug:code>/work-orders", inbound.work_orders, name="work_orders"),
]
