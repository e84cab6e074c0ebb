"""Open311 GeoReport v2 against a real `wangge serve`: an external system's key made with
the CLI, two requests POSTed form-encoded with `requests` (one with an attribute), then the
independent PyPI client `georeport` lists services, reads a service definition, lists the
requests and reads each one, in JSON and in XML, with the Chinese text intact and none of
the reporter's personal data anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tests.e2e.conftest import Server

JURISDICTION = "liling.hunan.cn"
SPOT_SCRIPT = r"""
import json
from wangge.territory.models import Grid
g = Grid.objects.get(name="胜利社区第1网格")
print(json.dumps([g.label_lng, g.label_lat]))
"""


def _many(value: Any) -> list[Any]:
    """xmltodict gives one element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def posted(server: Server) -> dict[str, Any]:
    key = server.cli("tokens", "create", "--system", "open311-test").stdout.strip().splitlines()[-1]
    lng, lat = json.loads(server.cli("manage", "shell", "-c", SPOT_SCRIPT).stdout.splitlines()[-1])
    url = f"{server.url}/open311/v2/requests.json"
    base = {"api_key": key, "jurisdiction_id": JURISDICTION, "lat": lat, "long": lng}
    drain = requests.post(url, data={
        **base, "service_code": "drain-blocked", "description": "胜利路下水道堵了，污水漫到路面",
        "attribute[severity]": "overflow", "first_name": "小明", "last_name": "张",
        "phone": "13700001234", "email": "zxm@example.com"}, timeout=30)
    light = requests.post(url, data={
        **base, "service_code": "streetlight-out", "description": "路灯整晚不亮"}, timeout=30)
    assert drain.status_code == 201, drain.text
    assert light.status_code == 201, light.text
    return {"key": key, "drain": drain.json()[0], "light": light.json()[0],
            "bodies": [drain.text, light.text]}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_definitions_and_requests(server: Server, posted,
                                                                  fmt: str) -> None:
    client = GeoReport(root_address=f"{server.url}/open311/v2", jurisdiction=JURISDICTION,
                       output_format=fmt)
    services = {s["service_code"]: s for s in _many(client.get_service_list())}
    assert services["drain-blocked"]["service_name"] == "下水道堵了"
    assert str(services["drain-blocked"]["metadata"]).lower() == "true"

    definition = client.get_service_definition("drain-blocked")
    attributes = definition["attributes"]
    attributes = _many(attributes["attribute"]) if fmt == "xml" else attributes
    severity = next(a for a in attributes if a["code"] == "severity")
    assert severity["description"] == "严重程度"
    values = severity["values"]
    values = _many(values["value"]) if fmt == "xml" else values
    assert {"key": "overflow", "name": "溢出到路面"} in [dict(v) for v in values]

    drain_no = posted["drain"]["service_request_id"]
    light_no = posted["light"]["service_request_id"]
    listed = _many(client.get_service_requests(service_request_id=f"{drain_no},{light_no}"))
    assert {r["service_request_id"] for r in listed} == {drain_no, light_no}
    recent = _many(client.get_service_requests(service_code="drain-blocked", status="open"))
    assert drain_no in {r["service_request_id"] for r in recent}

    drain = client.get_service_request(drain_no)
    # never the resident's words on a public list: the kind (and building, when there is one)
    assert drain["description"] == "居民反映：下水道堵了"
    assert drain["service_name"] == "下水道堵了" and drain["status"] == "open"
    assert drain["requested_datetime"].endswith("+08:00")
    light = client.get_service_request(light_no)
    assert light["description"] == "居民反映：路灯不亮"
    assert light["service_code"] == "streetlight-out"

    text = json.dumps([listed, recent, drain, light, posted["bodies"]], ensure_ascii=False)
    for secret in ("小明", "13700001234", "zxm@example.com", posted["key"], "污水漫到路面",
                   "整晚"):
        assert secret not in text


def test_the_post_token_finds_its_request_and_a_bad_key_is_refused(server: Server, posted):
    token = posted["drain"]["token"]
    r = requests.get(f"{server.url}/open311/v2/tokens/{token}.json", timeout=30)
    assert r.json() == [{"service_request_id": posted["drain"]["service_request_id"],
                         "token": token}]
    bad = requests.post(f"{server.url}/open311/v2/requests.xml",
                        data={"api_key": "wg_nope", "service_code": "drain-blocked"}, timeout=30)
    assert bad.status_code == 403 and "<errors><error><code>403</code>" in bad.text
