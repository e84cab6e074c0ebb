"""`wangge grids import/export`: all or nothing, every bad feature listed."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from wangge.core.models import AuditEntry
from wangge.integration.models import OutboxMessage
from wangge.territory import lookup
from wangge.territory.geojson import feature_collection
from wangge.territory.models import Grid, TerritoryState
from wangge.territory.tests.trees import box, small_tree


def _version() -> int:
    return TerritoryState.objects.get(pk=1).version


pytestmark = pytest.mark.django_db


def export(*args: str) -> dict:
    out = io.StringIO()
    call_command("grids", "export", *args, stdout=out)
    return json.loads(out.getvalue())


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_export_is_rfc7946_with_the_whole_tree() -> None:
    doc = export()
    assert doc["type"] == "FeatureCollection"
    levels = [f["properties"]["level"] for f in doc["features"]]
    assert [levels.count(n) for n in range(5)] == [1, 5, 24, 270, 820]
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    lng, lat = ring[0]
    assert 113 < lng < 114 and 27 < lat < 28  # longitude first
    # right-hand rule: exterior rings counter-clockwise (positive signed area)
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert area2 > 0


def test_export_filters_by_level_and_subtree() -> None:
    town = Grid.objects.get(name="来龙门街道")
    doc = export("--under", town.code, "--level", "4")
    codes = {f["properties"]["code"] for f in doc["features"]}
    expected = set(
        Grid.objects.filter(path__startswith=town.path, level=4).values_list("code", flat=True)
    )
    assert codes == expected and len(codes) > 0


def test_reimporting_the_export_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, export())
    version = _version()
    out = io.StringIO()
    call_command("grids", "import", str(path), stdout=out)
    assert "0 created, 0 updated, 1120 unchanged" in out.getvalue()
    assert _version() == version


def test_import_creates_a_new_tree_with_audit_and_outbox(tmp_path: Path) -> None:
    path = write(tmp_path, feature_collection(small_tree()))
    before = _version()
    call_command("grids", "import", str(path), stdout=io.StringIO())
    village = Grid.objects.get(code="999999001001")
    assert village.path == "/999999000000/999999901000/999999001000/999999001001/"
    assert village.children.count() == 2
    assert _version() == before + 1
    assert AuditEntry.objects.filter(action="grids.import").exists()
    assert OutboxMessage.objects.filter(topic="territory.grids_changed").exists()
    # the lookup picks up the new version without a restart
    chain = lookup.locate(100.015, 30.005)
    assert [g.code for g in chain][-1] == "999999001001002"


def test_bad_features_are_all_listed_and_nothing_is_imported(tmp_path: Path) -> None:
    good = feature_collection(small_tree())
    feats = good["features"]
    feats[4]["geometry"]["coordinates"] = [[[100, 30], [100.01, 30.01], [100.01, 30],
                                            [100, 30.01], [100, 30]]]  # bow-tie
    del feats[5]["properties"]["name"]
    feats.append({"type": "Point"})
    feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"},
                  "properties": {"code": "999999001001003", "name": "坏", "level": 4,
                                 "kind": "urban", "parent_code": "999999001001"}})
    path = write(tmp_path, good)
    count = Grid.objects.count()
    version = _version()
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("grids", "import", str(path), stdout=io.StringIO(), stderr=err)
    text = err.getvalue()
    assert "feature 5" in text and "properties.name" in text
    assert "feature 6" in text and "not a GeoJSON Feature" in text
    assert "feature 7" in text and "geometry" in text
    assert Grid.objects.count() == count
    assert _version() == version


def test_geometry_errors_are_listed_per_grid(tmp_path: Path) -> None:
    tree = [
        dataclasses.replace(r, geometry=box(0.005, 0, 0.03, 0.01))
        if r.code == "999999001001002" else r
        for r in small_tree()
    ]
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("grids", "import", str(write(tmp_path, feature_collection(tree))),
                     stdout=io.StringIO(), stderr=err)
    assert "outside its parent" in err.getvalue()
    assert "overlaps its sibling" in err.getvalue()
    assert not Grid.objects.filter(code__startswith="999999").exists()


@pytest.mark.parametrize("content", ["not json", '{"type": "Feature"}', "[]"])
def test_a_file_that_is_not_a_feature_collection_is_refused(tmp_path: Path, content) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(CommandError):
        call_command("grids", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
