"""Hostile input through the Django test client: every bad value is a 4xx naming the field
(422 with detail[{loc, msg, code}]), never a 500, and nothing is written.

Runs on SQLite, and on PostgreSQL when WANGGE_DATABASE_URL points there: PostgreSQL is the
database that refuses what SQLite silently stores (NUL bytes, over-long text, huge ints).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from wangge.cases.models import Assignment, Case, CaseEvent, CasePhoto, Supervision
from wangge.core.models import AuditEntry, IdempotencyKey
from wangge.core.schema import FREE_TEXT, MAX_ID, MAX_OFFSET
from wangge.integration.models import OutboxMessage
from wangge.registry.models import Building, House, KeyPlace, RegistryChange, Resident
from wangge.territory.models import Grid
from wangge.territory.records import GridRecord
from wangge.territory.validation import check_tree

pytestmark = pytest.mark.django_db

API = "/api/v1"
WRITTEN: tuple[type[Model], ...] = (
    Case, CaseEvent, CasePhoto, Supervision, Assignment, Resident, Building, House, KeyPlace,
    RegistryChange, AuditEntry, IdempotencyKey, OutboxMessage,
)
TOO_BIG = 2**63  # one past the largest 64-bit id


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_of(django_user_model) -> Callable[[str], Client]:  # type: ignore[no-untyped-def]
    def make(username: str) -> Client:
        client = Client()
        client.force_login(django_user_model.objects.get(username=username))
        return client
    return make


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in WRITTEN}


@pytest.fixture
def unchanged() -> Iterator[None]:
    """Nothing written by the test's requests: the same row counts after as before."""
    before = counts()
    yield
    assert counts() == before


@pytest.fixture
def spot() -> tuple[float, float]:
    grid = Grid.objects.get(name="胜利社区第1网格")
    return grid.label_lng, grid.label_lat


@pytest.fixture
def open_case(client_of, spot) -> Case:
    """A case of its own, reported by the grid worker and registered by the dispatcher."""
    r = post_json(client_of("gridworker"), f"{API}/cases/", good_case(spot))
    assert r.status_code == 201, r.content
    no = r.json()["register_no"]
    r = post_json(client_of("dispatcher"), f"{API}/cases/{no}/actions/register", {})
    assert r.status_code == 200 and r.json()["state"] == "registered", r.content
    return Case.objects.get(register_no=no)


def post_json(client: Client, url: str, body: Any, method: str = "post") -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type="application/json")


def assert_refused(r: Any, *loc: str | int, status: int = 422) -> dict[str, Any]:
    """A 4xx (never 5xx) whose detail names the field at `loc` and has loc, msg and code."""
    assert r.status_code == status, (r.status_code, r.content[:500])
    body = r.json()
    if status != 422:
        assert isinstance(body["detail"], str) and body["detail"]
        return body
    assert isinstance(body["detail"], list) and body["detail"], body
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "code"}, item
        assert item["msg"] and item["code"]
    locs = [tuple(item["loc"]) for item in body["detail"]]
    assert tuple(loc) in locs, locs
    return body


# ---- bodies that are not JSON, or JSON that no database stores ---------------------


def good_case(spot: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {"category": "0601", "title": "胜利路井盖缺失", "lng": spot[0], "lat": spot[1],
            **extra}


@pytest.mark.parametrize(("field", "value", "code"), [
    ("client_key", "k" * 65, "string_too_long"),
    ("title", "井" * 101, "string_too_long"),
    ("description", "述" * (FREE_TEXT + 1), "string_too_long"),
    ("title", "井盖\x00缺失", "null_character"),
    ("description", "a\x00", "null_character"),
    ("title", 123, "string_type"),
    ("category", ["0601"], "string_type"),
    ("channel", "carrier_pigeon", "literal_error"),
    ("lat", "north", "float_parsing"),
    ("lat", 91, "less_than_equal"),
])
def test_case_report_refuses_bad_fields(client_of, spot, unchanged, field, value,
                                        code) -> None:
    r = post_json(client_of("gridworker"), f"{API}/cases/", good_case(spot, **{field: value}))
    body = assert_refused(r, "body", field)
    assert code in {e["code"] for e in body["detail"]}


def test_a_lone_surrogate_is_refused_naming_the_field(client_of, spot, unchanged) -> None:
    raw = json.dumps(good_case(spot)).replace('"title": "', '"title": "\\ud800')
    r = post_json(client_of("gridworker"), f"{API}/cases/", raw)
    body = assert_refused(r, "body", "title")
    assert body["detail"][0]["code"] == "invalid_unicode"


def test_nul_in_a_nested_key_is_refused(client_of, spot, unchanged) -> None:
    r = post_json(client_of("gridworker"), f"{API}/cases/", {**good_case(spot), "x\x00": 1})
    assert_refused(r, "body")


@pytest.mark.parametrize("raw", ['{"lat": NaN}', '{"lat": Infinity}', '{"lat": -Infinity}'])
def test_nan_and_infinity_literals_are_refused(client_of, unchanged, raw) -> None:
    body = assert_refused(post_json(client_of("gridworker"), f"{API}/cases/", raw), "body")
    assert body["detail"][0]["code"] == "invalid_number"


def test_a_number_too_large_for_a_float_is_refused(client_of, spot, unchanged) -> None:
    raw = json.dumps(good_case(spot)).replace(f'"lat": {spot[1]}', '"lat": 1e400')
    assert_refused(post_json(client_of("gridworker"), f"{API}/cases/", raw), "body", "lat")


@pytest.mark.parametrize("raw", ["{", "not json", b"\xff\xfe{}", "[1, 2"])
def test_malformed_json_is_422_naming_the_body(client_of, unchanged, raw) -> None:
    body = assert_refused(post_json(client_of("gridworker"), f"{API}/cases/", raw), "body")
    assert body["detail"][0]["code"] == "invalid_json"


def test_a_body_that_is_not_an_object_is_422(client_of, unchanged) -> None:
    r = post_json(client_of("gridworker"), f"{API}/cases/", [1, 2])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body"


def test_a_text_plain_body_is_415(client_of, spot, unchanged) -> None:
    r = client_of("gridworker").post(f"{API}/cases/", json.dumps(good_case(spot)),
                                     content_type="text/plain")
    assert_refused(r, status=415)


def test_the_multipart_report_refuses_an_unknown_channel_and_nul(client_of, spot,
                                                                 unchanged) -> None:
    client = client_of("gridworker")
    form = {"category": "0601", "title": "井盖", "lng": spot[0], "lat": spot[1],
            "photos": [SimpleUploadedFile("a.jpg", _jpeg())]}
    assert_refused(client.post(f"{API}/cases/with-photos", {**form, "channel": "fax"}),
                   "form", "channel")
    form["photos"] = [SimpleUploadedFile("a.jpg", _jpeg())]
    assert_refused(client.post(f"{API}/cases/with-photos", {**form, "title": "井\x00盖"}),
                   "form", "title")


# ---- the case loop's free text -----------------------------------------------------


def test_a_supervision_reason_over_its_column_is_422(client_of, open_case, unchanged) -> None:
    r = post_json(client_of("center_admin"), f"{API}/cases/{open_case.register_no}/supervisions",
                  {"level": "normal", "reason": "督" * 201, "deadline": "2030-01-01"})
    assert_refused(r, "body", "reason")


def test_an_unknown_supervision_level_is_422(client_of, open_case, unchanged) -> None:
    r = post_json(client_of("center_admin"), f"{API}/cases/{open_case.register_no}/supervisions",
                  {"level": "purple", "reason": "督办", "deadline": "2030-01-01"})
    assert_refused(r, "body", "level")


@pytest.mark.parametrize(("field", "value"), [
    ("reason", "理" * 201), ("closeout_reason", "x" * 201), ("feedback", "f" * (FREE_TEXT + 1)),
    ("reply", "r\x00"), ("satisfaction", 2**70), ("department", "d" * 65),
])
def test_action_fields_are_limited(client_of, open_case, unchanged, field, value) -> None:
    r = post_json(client_of("dispatcher"),
                  f"{API}/cases/{open_case.register_no}/actions/cancel", {field: value})
    assert_refused(r, "body", field)
    open_case.refresh_from_db()
    assert open_case.state == "registered"


def test_an_unknown_action_is_422_naming_it(client_of, open_case, unchanged) -> None:
    r = post_json(client_of("dispatcher"),
                  f"{API}/cases/{open_case.register_no}/actions/explode", {})
    assert_refused(r, "path", "action")


def test_consultation_tasks_and_text_are_limited(client_of, open_case, unchanged) -> None:
    url = f"{API}/cases/{open_case.register_no}/consultations"
    task = {"department": "water", "task": "办" * 201, "deadline": "2030-01-01"}
    r = post_json(client_of("dispatcher"), url, {"held_on": "2030-01-01", "participants": "a",
                                                 "decision": "b", "tasks": [task]})
    assert_refused(r, "body", "tasks", 0, "task")


# ---- integers that would overflow the database -------------------------------------


@pytest.mark.parametrize("url", [
    "/cases/", "/cases/notifications", "/registry/residents", "/registry/buildings",
    "/registry/key-places", "/registry/organisations",
])
def test_every_list_bounds_its_offset(client_of, url) -> None:
    client = client_of("center_admin")
    assert_refused(client.get(f"{API}{url}", {"offset": TOO_BIG}), "query", "offset")
    assert_refused(client.get(f"{API}{url}", {"offset": MAX_OFFSET + 1}), "query", "offset")
    assert client.get(f"{API}{url}", {"offset": MAX_OFFSET}).json() == []


@pytest.mark.parametrize(("url", "name"), [
    (f"/registry/residents/{TOO_BIG}", "pk"),
    (f"/registry/buildings/{TOO_BIG}", "pk"),
    (f"/registry/households/{TOO_BIG}", "pk"),
    (f"/registry/residents/{TOO_BIG}/history", "pk"),
    (f"/people/{TOO_BIG}", "person_id"),
    (f"/people/{-1}", "person_id"),
])
def test_huge_path_ids_are_422(client_of, url, name) -> None:
    assert_refused(client_of("center_admin").get(f"{API}{url}"), "path", name)


def test_a_huge_id_at_the_limit_is_404(client_of) -> None:
    r = client_of("center_admin").get(f"{API}/registry/residents/{MAX_ID}")
    assert r.status_code == 404 and r.json()["detail"]


def test_a_huge_notification_id_is_422(client_of, unchanged) -> None:
    r = post_json(client_of("gridworker"), f"{API}/cases/notifications/read", {"ids": [TOO_BIG]})
    assert_refused(r, "body", "ids", 0)


def test_a_huge_photo_id_is_422(client_of, open_case) -> None:
    r = client_of("center_admin").get(
        f"{API}/cases/{open_case.register_no}/photos/{10**30}")
    assert_refused(r, "path", "pk")


def test_an_unknown_history_kind_is_422_and_declared(client_of) -> None:
    client = client_of("center_admin")
    assert_refused(client.get(f"{API}/registry/city/1/history"), "path", "kind")
    schema = client.get(f"{API}/openapi.json").json()
    params = schema["paths"][f"{API}/registry/{{kind}}/{{pk}}/history"]["get"]["parameters"]
    kind = next(p for p in params if p["name"] == "kind")
    assert "residents" in kind["schema"]["enum"] and "city" not in kind["schema"]["enum"]


# ---- query strings and paths -------------------------------------------------------


@pytest.mark.parametrize(("url", "params", "name"), [
    ("/registry/residents", {"q": "张\x00"}, "q"),
    ("/registry/buildings", {"grid": "\x00"}, "grid"),
    ("/people", {"grid": "4302\x00"}, "grid"),
    ("/grids/", {"parent": "\x00"}, "parent"),
    ("/cases/inspection-items", {"grid_kind": "x\x00"}, "grid_kind"),
    ("/registry/residents", {"q": "q" * 201}, "q"),
    ("/grids/", {"level": TOO_BIG}, "level"),
    ("/cases/", {"state": "on_fire"}, "state"),
])
def test_bad_query_values_are_422_naming_them(client_of, url, params, name) -> None:
    assert_refused(client_of("center_admin").get(f"{API}{url}", params), "query", name)


@pytest.mark.parametrize("url", ["/cases/LL%00X", "/grids/4302%00", "/cases/" + "L" * 25])
def test_bad_path_values_are_422(client_of, url) -> None:
    r = client_of("center_admin").get(f"{API}{url}")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "path"


# ---- registry: lengths from the model, the same on both databases ------------------


@pytest.mark.parametrize(("field", "value"), [
    ("name", "名" * 51), ("building", "b" * 41), ("house", "h" * 21),
    ("household", "h" * 31), ("client_key", "k" * 65), ("phone", "1" * 31),
    ("ethnicity", "汉\x00"),
])
def test_resident_fields_are_limited(client_of, unchanged, field, value) -> None:
    body = {"name": "张三", "id_number": "430281199001011234", "residence_type": "registered",
            "building": "B1", "house": "101", field: value}
    assert_refused(post_json(client_of("gridworker"), f"{API}/registry/residents", body),
                   "body", field)


@pytest.mark.parametrize(("field", "value"), [
    ("code", "c" * 41), ("name", "n" * 101), ("address", "a" * 201), ("use", "u\x00"),
])
def test_building_fields_are_limited(client_of, spot, unchanged, field, value) -> None:
    body = {"code": "HOSTILE-1", "name": "楼", "address": "胜利路1号", "lng": spot[0],
            "lat": spot[1], "floors": 3, "use": "residential", field: value}
    assert_refused(post_json(client_of("gridworker"), f"{API}/registry/buildings", body),
                   "body", field)


def test_unmask_purpose_is_limited(client_of, unchanged) -> None:
    resident = Resident.objects.order_by("pk").first()
    r = post_json(client_of("center_admin"), f"{API}/registry/residents/{resident.pk}/unmask",
                  {"purpose": "用" * 201})
    assert_refused(r, "body", "purpose")


# ---- grids: NaN in a geometry, names over the column -------------------------------


def square(x: float, y: float, d: float = 0.001) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


@pytest.mark.parametrize("raw_value", ["NaN", "Infinity", "1e400"])
def test_a_grid_geometry_with_nan_is_422(client_of, unchanged, raw_value) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    geometry = json.dumps(square(grid.label_lng, grid.label_lat)).replace(
        str(grid.label_lat), raw_value, 1)
    r = post_json(client_of("center_admin"), f"{API}/grids/{grid.code}",
                  f'{{"geometry": {geometry}}}', method="patch")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] in (["body"], ["body", "geometry"])


def test_an_unreadable_geometry_is_422_naming_it(client_of, unchanged) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = post_json(client_of("center_admin"), f"{API}/grids/{grid.code}",
                  {"geometry": {"type": "Polygon", "coordinates": [[["a", "b"]]]}},
                  method="patch")
    assert_refused(r, "body", "geometry")


def test_a_grid_name_over_its_column_is_422_and_not_cut(client_of, unchanged) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = post_json(client_of("center_admin"), f"{API}/grids/{grid.code}", {"name": "格" * 101},
                  method="patch")
    assert_refused(r, "body", "name")
    grid.refresh_from_db()
    assert grid.name == "胜利社区第1网格"


def test_import_validation_refuses_non_finite_coordinates() -> None:
    import shapely

    grid = Grid.objects.get(name="胜利社区第1网格")
    x, y = grid.label_lng, grid.label_lat
    poly = shapely.Polygon([(x, y), (math.nan, y), (x + 0.001, y + 0.001), (x, y + 0.001)])
    rec = GridRecord(grid.code, grid.name, grid.level, grid.kind, grid.parent.code, poly)
    errors, _ = check_tree([rec])
    assert [e.reason for e in errors if e.field == "geometry"] == [
        "coordinates must be finite numbers (no NaN or Infinity)"]
    long_name = GridRecord(grid.code, "格" * 101, grid.level, grid.kind, grid.parent.code,
                           grid.geometry)
    errors, _ = check_tree([long_name])
    assert "name" in [e.field for e in errors]


# ---- photos whose file is gone -----------------------------------------------------


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "blue").save(out, format="JPEG")
    return out.getvalue()


def test_a_photo_missing_on_disk_is_404_and_logged(client_of, spot, caplog) -> None:
    reporter = client_of("gridworker")
    r = reporter.post(f"{API}/cases/with-photos", {
        "category": "0601", "title": "井盖", "lng": spot[0], "lat": spot[1],
        "photos": [SimpleUploadedFile("a.jpg", _jpeg())]})
    assert r.status_code == 201, r.content
    case = r.json()
    url = case["photos"][0]["url"]
    assert reporter.get(url).status_code == 200
    photo = CasePhoto.objects.get(pk=case["photos"][0]["id"])
    photo.file.storage.delete(photo.file.name)
    caplog.clear()
    r = reporter.get(url)
    assert r.status_code == 404 and r.json()["detail"]
    assert "missing" in caplog.text
    console = reporter.get(f"/console/cases/{case['register_no']}/photos/{photo.pk}/")
    assert console.status_code == 404


# ---- the console -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["action", "actor", "case", "fields", "step"])
def test_console_action_ignores_fields_the_action_does_not_take(client_of, open_case,
                                                                  name) -> None:
    r = client_of("dispatcher").post(
        f"/console/cases/{open_case.register_no}/act/dispatch/", {name: "x"})
    assert r.status_code == 302
    open_case.refresh_from_db()
    assert open_case.state == "dispatched"


@pytest.mark.parametrize(("field", "value"), [
    ("reason", "理" * 201), ("reason", "a\x00b"), ("feedback", "f" * (FREE_TEXT + 1)),
])
def test_console_action_refuses_bad_text_without_writing(client_of, open_case, unchanged,
                                                         field, value) -> None:
    r = client_of("dispatcher").post(
        f"/console/cases/{open_case.register_no}/act/cancel/", {field: value}, follow=True)
    assert r.status_code == 200
    assert Case.objects.get(pk=open_case.pk).state != "cancelled"
    assert any(m.level_tag == "error" for m in r.context["messages"])


def test_console_supervision_reason_over_its_column_writes_nothing(client_of, open_case,
                                                                   unchanged) -> None:
    r = client_of("center_admin").post(
        f"/console/cases/{open_case.register_no}/supervise/",
        {"level": "normal", "reason": "督" * 201, "deadline": "2030-01-01"}, follow=True)
    assert r.status_code == 200
    assert any(m.level_tag == "error" for m in r.context["messages"])


def test_console_report_form_refuses_nul_and_long_text(client_of, unchanged) -> None:
    client = client_of("gridworker")
    r = client.post("/console/cases/new/", {"category": "0601", "title": "井\x00盖",
                                            "channel": "grid_worker", "client_key": "k1"})
    assert r.status_code == 200 and "title" in r.context["form"].errors
    r = client.post("/console/cases/new/", {"category": "0601", "title": "井盖",
                                            "description": "d" * (FREE_TEXT + 1),
                                            "channel": "grid_worker", "client_key": "k" * 65})
    assert {"description", "client_key"} <= set(r.context["form"].errors)


def test_every_console_text_field_is_bounded_and_refuses_nul() -> None:
    from django import forms
    from django.core.validators import ProhibitNullCharactersValidator

    from wangge.cases import forms as case_forms
    from wangge.registry import forms as registry_forms
    from wangge.workcal import forms as workcal_forms

    checked = 0
    for module in (case_forms, registry_forms, workcal_forms):
        for form in vars(module).values():
            if not (isinstance(form, type) and issubclass(form, forms.Form)
                    and form.__module__ == module.__name__):
                continue
            for name, field in form.base_fields.items():
                if type(field) is forms.CharField:
                    checked += 1
                    assert field.max_length, f"{form.__name__}.{name} has no max_length"
                    assert any(isinstance(v, ProhibitNullCharactersValidator)
                               for v in field.validators), f"{form.__name__}.{name}"
    assert checked >= 20


# ---- many cases: whatever the text, a clean answer ---------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(min_size=95, max_size=110),
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from(["\ud800", "a\udfff", "\U0010ffff", "‮", "\r\n", " "]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(title=HOSTILE_TEXT, description=HOSTILE_TEXT)
def test_any_title_and_description_get_a_clean_answer(client_of, spot, title,
                                                      description) -> None:
    before = counts()
    body = json.dumps(good_case(spot, title=title, description=description))
    r = post_json(client_of("gridworker"), f"{API}/cases/", body)
    assert r.status_code in (201, 422), (r.status_code, r.content[:300])
    if r.status_code == 201:
        case = Case.objects.get(register_no=r.json()["register_no"])
        assert case.title == title.strip() and case.description == description
    else:
        assert counts() == before
        loc = r.json()["detail"][0]["loc"]
        assert loc[0] == "body" and (len(loc) == 1 or loc[1] in ("title", "description"))


def test_a_record_deleted_meanwhile_is_404_not_500(client_of, monkeypatch) -> None:
    """A concurrent DELETE between the scope check and the update's row lock."""
    from wangge.registry import access

    resident = Resident.objects.order_by("pk").first()
    stale = Resident.objects.get(pk=resident.pk)
    resident.delete()
    monkeypatch.setattr(access, "access_record", lambda user, model, pk: stale)
    r = post_json(client_of("center_admin"), f"{API}/registry/residents/{stale.pk}",
                  {"name": "李四"}, method="patch")
    assert r.status_code == 404 and r.json()["detail"]


@pytest.mark.parametrize("kind", ["multipart/form-data; boundary=x",
                                  "application/x-www-form-urlencoded", "text/csv"])
def test_a_form_body_sent_to_a_json_endpoint_is_415(client_of, unchanged, kind) -> None:
    r = client_of("gridworker").generic("POST", f"{API}/cases/", b"--x\r\n\xff\x00abc",
                                        content_type=kind)
    assert_refused(r, status=415)


def test_nul_in_the_public_status_path_is_422() -> None:
    r = Client().get(f"{API}/public/cases/LL%00X", {"code": "A"})
    assert_refused(r, "path", "register_no")


def test_every_operation_declares_its_error_answers(client_of) -> None:
    """Schemathesis' response_schema_conformance holds each answer to its declaration:
    every operation (but the public status page, which has its own) declares 404 and 422."""
    schema = client_of("center_admin").get(f"{API}/openapi.json").json()
    missing = []
    for path, operations in schema["paths"].items():
        if path.startswith(f"{API}/public/"):
            continue
        for method, op in operations.items():
            answers = op["responses"]
            if not {"404", "422"} <= set(answers):
                missing.append(f"{method.upper()} {path}")
                continue
            ref = answers["422"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ValidationErrorOut"), (path, ref)
    assert missing == []
    item = schema["components"]["schemas"]["FieldError"]
    assert set(item["required"]) == {"loc", "msg", "code"}
