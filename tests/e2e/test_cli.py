"""The CLI against a real server process: tokens, export → import round trip, QR sheets,
and a grid change made by another process reaching the running server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e.conftest import Server, make_env


def api(server: Server, token: str, path: str) -> tuple[int, dict]:
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_export_then_import_into_an_empty_database_gives_the_same_tree(
    server: Server, tmp_path: Path
) -> None:
    first = tmp_path / "first.geojson"
    server.cli("grids", "export", "-o", str(first))
    env = make_env(tmp_path / "fresh", None)  # a brand-new SQLite database
    server.cli("setup", env=env)
    out = server.cli("grids", "import", str(first), env=env).stdout
    assert "1120 created" in out
    second = tmp_path / "second.geojson"
    server.cli("grids", "export", "-o", str(second), env=env)
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_tokens_from_the_cli_open_the_api_until_revoked(server: Server) -> None:
    token = server.cli("tokens", "create", "--user", "gridworker").stdout.strip().splitlines()[-1]
    status, me = api(server, token, "/api/v1/me")
    assert status == 200 and me["username"] == "gridworker" and me["roles"] == ["grid_worker"]
    server.cli("tokens", "revoke", token)
    assert api(server, token, "/api/v1/me")[0] == 401


def test_a_grid_change_by_another_process_reaches_the_server(
    server: Server, tmp_path: Path
) -> None:
    token = server.cli("tokens", "create", "--user", "dispatcher").stdout.strip().splitlines()[-1]
    _, town = api(server, token, "/api/v1/grids/?level=2")
    code = next(t["code"] for t in town if t["name"] == "来龙门街道")
    _, kids = api(server, token, f"/api/v1/grids/?parent={code}")
    village = next(k for k in kids if k["name"] == "胜利社区")
    _, basics = api(server, token, f"/api/v1/grids/?parent={village['code']}")
    basic = basics[-1]["code"]  # not 第1网格, which other tests look for
    # find a point inside the grid through the API's own GeoJSON
    _, fc = api(server, token, f"/api/v1/grids/{village['code']}/children.geojson")
    feature = next(f for f in fc["features"] if f["properties"]["code"] == basic)
    lng, lat = feature["properties"]["label"]
    # warm the server's index, then rename the grid from another process (the CLI)
    status, before = api(server, token, f"/api/v1/grids/locate?lat={lat}&lng={lng}")
    assert status == 200 and before["grid"]["code"] == basic
    server.cli("grids", "export", "--under", basic, "-o", str(tmp_path / "g.geojson"))
    doc = json.loads((tmp_path / "g.geojson").read_text())
    doc["features"][0]["properties"]["name"] = "改名后的网格"
    (tmp_path / "g.geojson").write_text(json.dumps(doc, ensure_ascii=False))
    assert "1 updated" in server.cli("grids", "import", str(tmp_path / "g.geojson")).stdout
    for _ in range(4):  # every gunicorn worker answers with the new name
        _, after = api(server, token, f"/api/v1/grids/locate?lat={lat}&lng={lng}")
        assert after["grid"]["name"] == "改名后的网格"


def test_qr_sheet_has_one_labelled_code_per_basic_grid(server: Server, tmp_path: Path) -> None:
    token = server.cli("tokens", "create", "--user", "dispatcher").stdout.strip().splitlines()[-1]
    _, towns = api(server, token, "/api/v1/grids/?level=2")
    code = next(t["code"] for t in towns if t["name"] == "来龙门街道")
    _, detail = api(server, token, f"/api/v1/grids/{code}")
    out = tmp_path / "sheet.svg"
    server.cli("qr", "sheet", "--under", code, "-o", str(out))
    svg = out.read_text()
    assert svg.count("<image ") == detail["basic_grids"] > 0
    assert "胜利社区第1网格" in svg and svg.startswith("<?xml")


def test_bad_import_through_the_cli_exits_nonzero_and_lists_reasons(
    server: Server, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "1", "name": "", "level": 9, "kind": "x"},
         "geometry": {"type": "Point", "coordinates": [0, 0]}}]}))
    result = server.cli("grids", "import", str(bad), check=False)
    assert result.returncode != 0
    assert "feature 0" in result.stderr and "nothing was imported" in result.stderr
