"""Public pages of the service hall (`/services/`): search, guides, apply online, ask my
grid worker, status (views_public)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from wangge.services import views_public as views

app_name = "services_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.hall, name="hall"),
    path("search.json", views.search_json, name="search_json"),
    path("items/<str:code>/", views.guide, name="guide"),
    path("items/<str:code>/apply/", views.apply, name="apply"),
    path("items/<str:code>/proxy/", views.book, name="book"),
    path("applications/<str:no>/", views.application_page, name="application"),
    path("applications/<str:no>/upload/", views.upload, name="upload"),
    path("applications/<str:no>/submit/", views.submit, name="submit"),
    path("applications/<str:no>/done/", views.applied, name="applied"),
    path("proxies/<str:no>/", views.booked, name="booked"),
    path("proxies/<str:no>/rate/", views.rate, name="rate"),
    path("status/", views.status, name="status"),
]
