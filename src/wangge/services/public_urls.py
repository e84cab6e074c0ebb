"""Public pages of the service hall (`/services/`): search, guides, apply online, ask my
grid worker, status (views_public)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "services_public"

urlpatterns: list[URLPattern | URLResolver] = []
