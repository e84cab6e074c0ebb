"""/console/open311/: the Open311 keys page."""

from django.urls import path

from wangge.open311 import views_keys

app_name = "open311_console"

urlpatterns: list = [
    path("keys/", views_keys.keys_page, name="keys"),
    path("keys/create", views_keys.create_key, name="create"),
    path("keys/<int:pk>/revoke", views_keys.revoke_key, name="revoke"),
]
