"""The installable field app under /app/ (shell, manifest, service worker)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "fieldapp"

urlpatterns: list[URLPattern] = []
