"""Console pages of the service hall (`/console/services/`). Each area adds its own list of
paths here: catalogue (views_catalogue), review inbox (views_review), proxy board
(views_proxy), statistics (views_stats)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from wangge.services import views_catalogue, views_proxy, views_review, views_stats

app_name = "services"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_review.home, name="home"),
    path("review/", views_review.inbox, name="review"),
    path("review/<int:pk>/", views_review.application, name="review_application"),
    path("review/<int:pk>/check/", views_review.check, name="review_check"),
    path("review/<int:pk>/decide/", views_review.decide, name="review_decide"),
    path("review/<int:pk>/files/<int:file_id>/", views_review.material_file,
         name="application_file"),
    path("catalogue/", views_catalogue.catalogue, name="catalogue"),
    path("catalogue/export/", views_catalogue.export, name="catalogue_export"),
    path("catalogue/import/", views_catalogue.upload, name="catalogue_import"),
    path("catalogue/<str:code>/", views_catalogue.item, name="catalogue_item"),
    path("catalogue/<str:code>/edit/", views_catalogue.edit, name="catalogue_edit"),
    path("catalogue/<str:code>/publish/", views_catalogue.publish, name="catalogue_publish"),
    path("catalogue/<str:code>/discard/", views_catalogue.discard, name="catalogue_discard"),
    path("catalogue/<str:code>/active/", views_catalogue.set_active, name="catalogue_active"),
    path("stats/", views_stats.stats_page, name="stats"),
]

urlpatterns += views_proxy.urlpatterns  # the proxy board and a request's page
