"""Signed links to the photos we attach to an order for an external system."""

from django.urls import path

from wangge.integration.adapters import attachments

app_name = "integration_attachments"

urlpatterns = [
    path("<str:token>", attachments.photo, name="photo"),
]
