"""Personal data: sealed at rest, searchable by keyed hash, masked everywhere, unmasked only
with a permission and a purpose, and every unmask logged."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from openpyxl import load_workbook

from wangge.core import crypto
from wangge.core.tests.sealed_slice import slice_sealed_fields
from wangge.registry.models import Resident, UnmaskLog
from wangge.registry.tests import factories

pytestmark = pytest.mark.django_db

PHONE = "17091234567"



@pytest.fixture
def person() -> tuple[Resident, str]:
    number = factories.id_number()
    r = factories.person_in("胜利社区第1网格", name="王测试", number=number, phone=PHONE)
    return r, number


def all_database_text() -> str:
    """Every value of every row of every table, as the database holds it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value).decode("latin-1"))
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_raw_database_holds_no_plaintext_id_number_or_phone(person, login_as) -> None:
    resident, number = person
    # touch every path that writes: update, unmask (log), export
    client = login_as("gridworker")
    client.patch(f"/api/v1/registry/residents/{resident.pk}",
                 json.dumps({"name": "王测试二"}), content_type="application/json")
    client.post(f"/api/v1/registry/residents/{resident.pk}/unmask",
                json.dumps({"purpose": "代办低保申请"}), content_type="application/json")
    text = all_database_text()
    assert "王测试二" in text  # the dump really reads the data …
    assert number not in text and number[:17] not in text  # … but no ID number
    assert PHONE not in text
    assert number[6:14] not in text.replace(resident.birth_date.isoformat(), "")  # nor its digits


def test_search_by_exact_id_number_and_phone(person, login_as) -> None:
    resident, number = person
    client = login_as("gridworker")
    by_id = client.get("/api/v1/registry/residents", {"id_number": number.lower()}).json()
    assert [r["id"] for r in by_id] == [resident.pk]
    by_phone = client.get("/api/v1/registry/residents", {"phone": "170 9123 4567"}).json()
    assert [r["id"] for r in by_phone] == [resident.pk]
    other = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert client.get("/api/v1/registry/residents", {"id_number": other}).json() == []


def test_masked_in_list_detail_and_export(person, login_as) -> None:
    resident, number = person
    client = login_as("gridworker")
    row = client.get(f"/api/v1/registry/residents/{resident.pk}").json()
    assert row["id_number"] == number[:6] + "********" + number[-4:]
    assert row["phone"] == "170****4567"
    listed = client.get("/api/v1/registry/residents", {"q": "王测试"}).content.decode()
    assert number not in listed and PHONE not in listed
    xlsx = client.get("/api/v1/registry/export.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row]
    assert number[:6] + "********" + number[-4:] in cells
    assert number not in cells and PHONE not in cells


def test_unmask_needs_a_purpose_and_is_logged(person, login_as) -> None:
    resident, number = person
    client = login_as("gridworker")
    url = f"/api/v1/registry/residents/{resident.pk}/unmask"
    r = client.post(url, json.dumps({"purpose": " "}), content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "purpose"
    assert not UnmaskLog.objects.exists()
    r = client.post(url, json.dumps({"purpose": "代办低保申请"}), content_type="application/json")
    assert r.status_code == 200 and r.json() == {"id_number": number, "phone": PHONE}
    log = UnmaskLog.objects.get()
    assert (log.actor.username, log.resident_id, log.purpose) == (
        "gridworker", resident.pk, "代办低保申请")
    assert log.fields == "id_number,phone"


def test_unmask_without_the_permission_is_refused(person, login_as) -> None:
    resident, _ = person
    client = login_as("grid_chief")  # sees the person, may not unmask
    assert client.get(f"/api/v1/registry/residents/{resident.pk}").status_code == 200
    r = client.post(f"/api/v1/registry/residents/{resident.pk}/unmask",
                    json.dumps({"purpose": "好奇"}), content_type="application/json")
    assert r.status_code == 403 and not UnmaskLog.objects.exists()


def test_unmask_log_is_for_admins(person, login_as) -> None:
    resident, _ = person
    login_as("gridworker").post(
        f"/api/v1/registry/residents/{resident.pk}/unmask",
        json.dumps({"purpose": "上门核实"}), content_type="application/json")
    admin_rows = login_as("center_admin").get(
        "/api/v1/registry/unmask-log").json()
    assert [(r["actor"], r["purpose"]) for r in admin_rows] == [("gridworker", "上门核实")]
    assert login_as("gridworker").get(
        "/api/v1/registry/unmask-log").json() == []


def test_key_rotation_reseals_everything_and_search_still_works(
    person, login_as, settings, tmp_path, monkeypatch
) -> None:
    resident, number = person
    # rotate a copy of the keys: the rolled-back test data must stay readable afterwards
    (tmp_path / "data_keys.json").write_text(crypto.key_path().read_text())
    settings.DATA_DIR = tmp_path
    old_ids = {crypto.sealed_key_id(r.id_number_enc) for r in Resident.objects.all()}
    # the newest rows of every sealed column, this person's among them, not the demo's
    # 20,000 residents (core/tests/sealed_slice.py)
    sliced = slice_sealed_fields(monkeypatch)
    assert all(resident.pk in m.pks for m, _ in sliced if m.model is Resident)
    call_command("keys", "rotate", stdout=io.StringIO(), stderr=io.StringIO())
    ring = crypto.keyring()
    assert len(ring.keys) == 1 and ring.active_id not in old_ids
    for model, field in sliced:  # every value of every (sliced) column moved to the new key
        assert {crypto.sealed_key_id(v) for v in model.objects.exclude(
            **{f"{field}__isnull": True}).values_list(field, flat=True)} <= {ring.active_id}
    resident.refresh_from_db()
    assert crypto.sealed_key_id(resident.id_number_enc) == ring.active_id
    assert crypto.open_sealed(resident.id_number_enc) == number
    assert crypto.open_sealed(resident.phone_enc) == PHONE
    client = login_as("gridworker")
    assert [r["id"] for r in client.get("/api/v1/registry/residents",
                                        {"id_number": number}).json()] == [resident.pk]


def test_unmasked_export_needs_permission_and_purpose_and_logs_each_person(
    person, login_as
) -> None:
    resident, number = person
    url = "/api/v1/registry/export.xlsx?unmasked=true&q=王测试"
    chief = login_as("grid_chief")
    assert chief.get(url + "&purpose=核对").status_code == 403
    worker = login_as("gridworker")
    r = worker.get(url)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "purpose"
    assert not UnmaskLog.objects.exists()
    r = worker.get(url + "&purpose=低保年审")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row]
    assert number in cells and PHONE in cells
    assert list(UnmaskLog.objects.values_list("resident_id", "purpose")) == [
        (resident.pk, "低保年审")]
