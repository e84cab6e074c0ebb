"""Console pages of the service hall (`/console/services/`). Each area adds its own list of
paths here: catalogue (views_catalogue), review inbox (views_review), proxy board
(views_proxy), statistics (views_stats)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from wangge.services import views_proxy

app_name = "services"

urlpatterns: list[URLPattern | URLResolver] = []

urlpatterns += views_proxy.urlpatterns  # the proxy board and a request's page
