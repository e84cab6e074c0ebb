"""The console map page: its libraries are our own static files (markercluster from npm),
a configured tile layer reaches the map, and the grid panel counts open and late cases as
the map colours them."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def test_markercluster_is_served_from_node_modules() -> None:
    # `make` runs `npm ci` (package-lock.json); collectstatic finds the files under a prefix
    for name in ("markercluster/leaflet.markercluster.js", "markercluster/MarkerCluster.css"):
        found = finders.find(name)
        assert found and "node_modules" in str(found), name


def test_the_map_page_loads_the_cluster_library_and_no_inline_script(login_as) -> None:
    page = login_as("dispatcher").get("/").content.decode()
    assert '/static/markercluster/leaflet.markercluster.js"' in page
    assert '/static/markercluster/MarkerCluster.css"' in page
    assert 'data-tile-url=""' in page  # no base map by default: no outside host
    assert 'data-t-late="超期"' in page and 'data-t-open="未结"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page)
    assert " style=" not in page


def test_a_configured_tile_layer_reaches_the_map(login_as, settings) -> None:
    url = "https://t0.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=K"
    settings.WANGGE_TILE_URL = url
    page = login_as("dispatcher").get("/").content.decode()
    assert 'data-tile-url="https://t0.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&amp;' in page


def test_the_grid_panel_counts_open_and_late_cases_like_the_map(login_as) -> None:
    client = login_as("dispatcher")
    city = Grid.objects.get(level=0)
    page = client.get(f"/console/grids/{city.code}/").content.decode()
    (row,) = client.get("/api/v1/map/grids/top").json()["grids"]
    assert f'<dd class="n-open">{row["open"]}</dd>' in page
    assert f'<dd class="n-late">{row["late"]}</dd>' in page
    assert row["open"] > 0
    # a station's panel counts only its own community's cases
    station = login_as("station")
    community = Grid.objects.get(name="胜利社区")
    mine = station.get(f"/console/grids/{community.code}/").content.decode()
    (own,) = [g for g in station.get("/api/v1/map/grids/top").json()["grids"]
              if g["code"] == community.code]
    assert f'<dd class="n-open">{own["open"]}</dd>' in mine
    assert station.get(f"/console/grids/{city.code}/").status_code == 404
