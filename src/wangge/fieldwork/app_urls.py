"""The installable field app under /app/ (shell, manifest, service worker)."""

from __future__ import annotations

from django.urls import URLPattern, path

from wangge.fieldwork import views_app

app_name = "fieldapp"

urlpatterns: list[URLPattern] = [
    path("", views_app.shell, name="shell"),
    path("manifest.webmanifest", views_app.manifest, name="manifest"),
    path("sw.js", views_app.service_worker, name="sw"),
    path("icon-<int:size>.png", views_app.icon, name="icon"),
]
