"""discovery, services and service definitions: the resident-facing categories as Open311
services, in JSON and XML, Chinese intact."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from wangge.cases.models import PublicCategory

pytestmark = pytest.mark.django_db


def test_discovery_names_the_v2_endpoint_and_both_formats(client):
    body = client.get("/open311/v2/discovery.json").json()
    [endpoint] = body["endpoints"]
    assert endpoint["url"].endswith("/open311/v2/")
    assert endpoint["formats"] == ["application/json", "text/xml"]
    assert body["key_service"].endswith("/console/open311/keys/")
    root = ET.fromstring(client.get("/open311/v2/discovery.xml").content)
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def test_services_list_the_active_resident_facing_categories(client, drain, light):
    PublicCategory.objects.filter(pk=light.pk).update(active=False)
    r = client.get("/open311/v2/services.json")
    assert r["Content-Type"] == "application/json; charset=utf-8"
    # Chinese as characters, not \\u escapes
    assert "下水道堵了（测试）".encode() in r.content
    rows = {s["service_code"]: s for s in json.loads(r.content)}
    assert rows["t311-drain"] == {
        "service_code": "t311-drain", "service_name": "下水道堵了（测试）",
        "description": "下水道堵塞、污水冒出", "metadata": True, "type": "realtime",
        "keywords": "下水道,堵塞", "group": "市政设施"}
    assert "t311-light" not in rows


def test_a_category_of_a_confidential_kind_is_no_service(client, drain):
    drain.category.confidential = True
    drain.category.save(update_fields=["confidential"])
    assert "t311-drain" not in client.get("/open311/v2/services.json").content.decode()
    assert client.get("/open311/v2/services/t311-drain.json").status_code == 404


def test_services_xml(client, drain, light):
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services"
    by_code = {s.findtext("service_code"): s for s in root.findall("service")}
    assert by_code["t311-drain"].findtext("service_name") == "下水道堵了（测试）"
    assert by_code["t311-drain"].findtext("metadata") == "true"
    assert by_code["t311-light"].findtext("metadata") == "false"


def test_service_definition_from_intake_fields(client, drain):
    body = client.get("/open311/v2/services/t311-drain.json").json()
    assert body["service_code"] == "t311-drain"
    severity, smell, depth = body["attributes"]
    assert severity == {
        "variable": True, "code": "severity", "datatype": "singlevaluelist", "required": True,
        "datatype_description": "", "order": 1, "description": "严重程度",
        "values": [{"key": "minor", "name": "轻微"}, {"key": "overflow", "name": "溢出到路面"}]}
    assert smell["datatype"] == "multivaluelist" and not smell["required"]
    assert depth["datatype"] == "number" and depth["values"] == []


def test_service_definition_xml(client, drain):
    root = ET.fromstring(client.get("/open311/v2/services/t311-drain.xml").content)
    assert root.tag == "service_definition"
    attrs = root.find("attributes").findall("attribute")
    assert [a.findtext("code") for a in attrs] == ["severity", "smell", "depth_cm"]
    values = attrs[0].find("values").findall("value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("minor", "轻微"), ("overflow", "溢出到路面")]
    assert attrs[0].findtext("variable") == "true"


def test_unknown_service_is_404_in_the_spec_shape(client):
    r = client.get("/open311/v2/services/no-such.json")
    assert r.status_code == 404
    assert r.json() == [{"code": 404, "description": "service_code: no service 'no-such'"}]
    x = ET.fromstring(client.get("/open311/v2/services/no-such.xml").content)
    assert x.tag == "errors" and x.find("error").findtext("code") == "404"
