"""Console pages under /console/fieldwork/ (one module of views per area)."""

from __future__ import annotations

from wangge.fieldwork import views_day, views_patrols, views_records

app_name = "fieldwork"

urlpatterns = [*views_day.urlpatterns, *views_patrols.urlpatterns, *views_records.urlpatterns]
