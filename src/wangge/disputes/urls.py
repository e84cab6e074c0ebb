"""The console's dispute pages under /console/disputes/ (helper "console" builds them)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "disputes"

urlpatterns: list[URLPattern] = []
