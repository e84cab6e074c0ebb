"""Data keys cannot go missing silently: every key's fingerprint lives beside the sealed data,
and a missing or different key file is an early error naming the file to restore, never a
new key sealing over the old data."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wangge.core import crypto
from wangge.core.checks import data_keys_match_database
from wangge.core.models import DataKeyFingerprint
from wangge.core.tests.sealed_slice import SealedSlice, slice_sealed_fields
from wangge.registry.models import Resident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test checks its keys anew; the session's keys come back afterwards."""
    monkeypatch.delenv(crypto.ENV, raising=False)
    monkeypatch.setattr(crypto, "_cache", None)


@pytest.fixture
def real_keys() -> str:
    """The key file the demo database was sealed with."""
    crypto._cache = None
    text = crypto.key_path().read_text()
    crypto._cache = None
    return text


def stored() -> dict[tuple[str, int], str]:
    return {(f.kind, f.key_id): f.fingerprint for f in DataKeyFingerprint.objects.all()}


def sliced_residents(monkeypatch: pytest.MonkeyPatch) -> SealedSlice:
    """Rotations below re-seal a slice of each sealed column (sealed_slice.py); the slice of
    the residents' ID numbers."""
    for model, field in slice_sealed_fields(monkeypatch):
        if model.model is Resident and field == "id_number_enc":
            return model
    raise AssertionError("no resident ID numbers to rotate")


def test_the_demo_database_holds_the_fingerprints_of_its_keys(real_keys: str) -> None:
    ring = crypto.Keyring.from_json(real_keys)
    assert stored() == crypto.fingerprints(ring)
    assert set(stored()) == {("hash", 0), ("data", ring.active_id)}


def test_empty_data_dir_against_a_populated_database_is_an_error_naming_the_file(
    settings, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert str(tmp_path / "data_keys.json") in str(err.value)
    assert "missing" in str(err.value)
    assert not (tmp_path / "data_keys.json").exists()  # no new key over the sealed data
    with pytest.raises(crypto.KeyCheckError):  # sealing anything fails the same way
        crypto.seal("430281199001011234")
    assert list(tmp_path.iterdir()) == []


def test_the_start_up_check_refuses_the_missing_key_file(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    errors = data_keys_match_database()
    assert [e.id for e in errors] == ["wangge.E001"]
    assert errors[0].level == checks.ERROR
    assert str(tmp_path / "data_keys.json") in errors[0].msg
    assert "wangge restore" in errors[0].hint
    # registered: `wangge serve`, `worker`, `setup` ... run it before doing anything
    with pytest.raises(SystemCheckError) as failed:
        call_command("check", tags=["wangge"])
    assert "wangge.E001" in str(failed.value)
    assert not (tmp_path / "data_keys.json").exists()


def test_status_of_a_missing_key_file_fails_and_names_it(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    with pytest.raises(CommandError) as err:
        call_command("keys", "status", stdout=out)
    assert str(tmp_path / "data_keys.json") in str(err.value)
    assert "(MISSING)" in out.getvalue()  # the source line
    assert "- " * 1 in out.getvalue() and out.getvalue().count("MISSING") >= 3  # each key
    assert not (tmp_path / "data_keys.json").exists()


def test_a_different_key_file_is_a_mismatch(settings, tmp_path: Path) -> None:
    (tmp_path / "data_keys.json").write_text(crypto.Keyring.generate().to_json())
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    message = str(err.value)
    assert str(tmp_path / "data_keys.json") in message
    assert "the database expects" in message and "hash key" in message
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("keys", "status", stdout=out)
    assert "MISMATCH" in out.getvalue()


def test_a_key_file_lacking_the_key_that_sealed_is_refused(
    settings, tmp_path: Path, real_keys: str
) -> None:
    ring = crypto.Keyring.from_json(real_keys)
    # same hash key, but only a newer data key: the values sealed by the old one are lost
    newer = crypto.Keyring(ring.hash_key, ((ring.active_id + 1, bytes(32)),))
    (tmp_path / "data_keys.json").write_text(newer.to_json())
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert f"data key {ring.active_id}" in str(err.value) and "missing" in str(err.value)


def test_keys_from_the_environment_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crypto.ENV, crypto.Keyring.generate().to_json())
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert "WANGGE_DATA_KEYS" in str(err.value)


def test_keys_from_the_environment_that_match_are_used(
    monkeypatch: pytest.MonkeyPatch, real_keys: str
) -> None:
    monkeypatch.setenv(crypto.ENV, real_keys)
    resident = Resident.objects.order_by("pk").first()
    assert resident is not None
    assert len(crypto.open_sealed(resident.id_number_enc)) == 18


def test_sealed_data_without_fingerprints_is_checked_by_opening_it(
    settings, tmp_path: Path, real_keys: str
) -> None:
    """A database from before fingerprints: the newest sealed value of each column must open."""
    DataKeyFingerprint.objects.all().delete()
    (tmp_path / "data_keys.json").write_text(crypto.Keyring.generate().to_json())
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert "does not open the values in registry.Resident.id_number_enc" in str(err.value)
    assert not stored()
    # the right keys are adopted: their fingerprints are recorded
    (tmp_path / "data_keys.json").write_text(real_keys)
    crypto._cache = None
    ring = crypto.keyring()
    assert stored() == crypto.fingerprints(ring)


def test_first_start_on_an_empty_database_creates_key_and_fingerprints(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo's sealed rows stand in for an empty database: no columns, no fingerprints
    DataKeyFingerprint.objects.all().delete()
    monkeypatch.setattr(crypto, "sealed_fields", lambda: [])
    settings.DATA_DIR = tmp_path
    ring = crypto.keyring()
    path = tmp_path / "data_keys.json"
    assert path.exists() and path.stat().st_mode & 0o777 == 0o600
    assert crypto.Keyring.from_json(path.read_text()) == ring
    assert stored() == crypto.fingerprints(ring)
    assert crypto.keyring() == ring  # the second start reads the same file
    assert data_keys_match_database() == []


def test_status_prints_the_fingerprints_on_both_sides(real_keys: str) -> None:
    ring = crypto.Keyring.from_json(real_keys)
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    text = out.getvalue()
    for fp in crypto.fingerprints(ring).values():
        assert f"{fp} / {fp}" in " ".join(text.split())
    assert "the keys match this database" in text
    assert base64.b64encode(ring.keys[0][1]).decode() not in text  # never the key itself


def test_rotation_keeps_the_fingerprint_table_right(
    settings, tmp_path: Path, real_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data_keys.json").write_text(real_keys)
    settings.DATA_DIR = tmp_path
    old = crypto.Keyring.from_json(real_keys)
    sliced = slice_sealed_fields(monkeypatch)
    values = sum(m.objects.exclude(**{f"{f}__isnull": True}).count() for m, f in sliced)
    assert values > 2 * len(sliced)  # several values, several batches, in most columns
    call_command("keys", "rotate", stdout=io.StringIO(), stderr=io.StringIO(), verbosity=0)
    ring = crypto.keyring()
    assert ring.active_id == old.active_id + 1 and len(ring.keys) == 1
    assert stored() == crypto.fingerprints(ring)  # new key in, old key out, hash key kept
    assert ("data", old.active_id) not in stored()
    # the rotation is on the audit log: which key seals now, which keys were dropped
    from wangge.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="core.keys_rotated")
    assert entry.object_id == str(ring.active_id)
    assert entry.detail["dropped"] == [old.active_id] and entry.detail["resealed"] == values
    call_command("keys", "status", stdout=io.StringIO())  # no value left under a lost key
    # the key file from before the rotation no longer fits this database
    (tmp_path / "data_keys.json").write_text(real_keys)
    crypto._cache = None
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert f"data key {ring.active_id}" in str(err.value)


def test_a_value_the_key_does_not_open_is_a_clear_crypto_error(real_keys: str) -> None:
    ring = crypto.Keyring.from_json(real_keys)
    other = crypto.Keyring(ring.hash_key, ((ring.active_id, bytes(32)),))
    sealed = crypto.seal("430281199001011234", other)
    with pytest.raises(crypto.CryptoError) as err:
        crypto.open_sealed(sealed, ring)
    assert f"data key {ring.active_id}" in str(err.value)
    assert "do not belong to this database" in str(err.value)


@hsettings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_fingerprints_identify_keys_without_revealing_them(a: bytes, b: bytes) -> None:
    fa = crypto.fingerprint(a)
    assert fa == crypto.fingerprint(a) and len(fa) == 16
    assert int(fa, 16) >= 0
    assert a.hex() not in fa and base64.b64encode(a).decode() not in fa
    if a != b:
        assert fa != crypto.fingerprint(b)


def test_key_file_json_round_trips(real_keys: str) -> None:
    ring = crypto.Keyring.from_json(real_keys)
    assert crypto.Keyring.from_json(ring.to_json()) == ring
    assert json.loads(ring.to_json())["keys"][0]["id"] == ring.active_id


def test_the_api_answers_503_not_500_when_a_key_does_not_open_a_value(
    login_as, real_keys: str
) -> None:
    from wangge.registry.tests import factories

    resident = factories.person_in("胜利社区第1网格", name="王密钥", number=factories.id_number())
    ring = crypto.Keyring.from_json(real_keys)
    wrong = crypto.Keyring(ring.hash_key, ((ring.active_id, bytes(32)),))
    Resident.objects.filter(pk=resident.pk).update(
        id_number_enc=crypto.seal("430281199001011234", wrong))
    response = login_as("gridworker").post(
        f"/api/v1/registry/residents/{resident.pk}/unmask", json.dumps({"purpose": "上门核实"}),
        content_type="application/json")
    assert response.status_code == 503
    assert "密钥" in response.json()["detail"]
    assert "430281199001011234" not in response.content.decode()


def test_a_key_file_holding_more_keys_than_recorded_passes_and_records_nothing(
    settings, tmp_path: Path, real_keys: str
) -> None:
    """The end of a rotation: old fingerprints already pruned, old key still in the file."""
    ring = crypto.Keyring.from_json(real_keys)
    extra = crypto.Keyring(ring.hash_key, (*ring.keys, (ring.active_id + 5, bytes(range(32)))))
    (tmp_path / "data_keys.json").write_text(extra.to_json())
    settings.DATA_DIR = tmp_path
    before = stored()
    assert crypto.keyring() == extra
    assert stored() == before  # only `keys rotate` records a key into a non-empty table


class _HookedBar:
    """tqdm stand-in for `keys rotate`: runs `hook` when the scan of `column` ends (once)."""

    column = "registry.Resident.id_number_enc"
    hook: Any = None
    fired = 0

    def __init__(self, *args: Any, desc: str = "", **kwargs: Any) -> None:
        self.desc = desc

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        if self.desc == self.column and not _HookedBar.fired:
            _HookedBar.fired += 1
            _HookedBar.hook()


def test_a_value_sealed_under_the_old_key_behind_the_scan_is_resealed_before_pruning(
    settings, tmp_path: Path, real_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long writer that fetched the keys before the rotation commits a value under the old
    key after the scan passed its row: the old key must not be dropped under it."""
    from wangge.core.management.commands import keys as keys_command

    (tmp_path / "data_keys.json").write_text(real_keys)
    settings.DATA_DIR = tmp_path
    old = crypto.Keyring.from_json(real_keys)
    first = Resident.objects.get(pk=sliced_residents(monkeypatch).pks[0])

    def late_writer() -> None:  # the scan has passed every resident's ID number by now
        Resident.objects.filter(pk=first.pk).update(
            id_number_enc=crypto.seal("430281199001011234", old))

    monkeypatch.setattr(_HookedBar, "hook", staticmethod(late_writer))
    monkeypatch.setattr(_HookedBar, "fired", 0)
    monkeypatch.setattr(keys_command, "tqdm", _HookedBar)
    out = io.StringIO()
    call_command("keys", "rotate", stdout=out, stderr=io.StringIO(), verbosity=1)
    assert _HookedBar.fired == 1
    ring = crypto.keyring()
    assert len(ring.keys) == 1 and ring.active_id == old.active_id + 1
    value = Resident.objects.get(pk=first.pk).id_number_enc
    assert crypto.sealed_key_id(value) == ring.active_id
    assert crypto.open_sealed(value, ring) == "430281199001011234"
    assert "re-sealed 1 values written under an old key meanwhile" in out.getvalue()
    call_command("keys", "status", stdout=io.StringIO())  # nothing sealed by a lost key


def test_a_rotation_racing_an_endless_old_key_writer_keeps_the_old_keys(
    settings, tmp_path: Path, real_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wangge.core.management.commands import keys as keys_command

    (tmp_path / "data_keys.json").write_text(real_keys)
    settings.DATA_DIR = tmp_path
    old = crypto.Keyring.from_json(real_keys)
    first = Resident.objects.get(pk=sliced_residents(monkeypatch).pks[0])
    real_pass = keys_command._reseal_pass

    def pass_then_write(ring: crypto.Keyring, **kwargs: Any) -> int:
        moved = real_pass(ring, **kwargs)
        Resident.objects.filter(pk=first.pk).update(
            id_number_enc=crypto.seal("430281199001011234", old))
        return moved

    monkeypatch.setattr(keys_command, "_reseal_pass", pass_then_write)
    monkeypatch.setattr(keys_command, "MAX_PASSES", 3)
    with pytest.raises(CommandError, match="kept appearing in 3 passes"):
        call_command("keys", "rotate", stdout=io.StringIO(), stderr=io.StringIO(), verbosity=0)
    crypto._cache = None
    ring = crypto.keyring()  # the old key is still held and still recorded
    assert old.keys[0] in ring.keys and ("data", old.active_id) in stored()
    assert crypto.open_sealed(Resident.objects.get(pk=first.pk).id_number_enc, ring) \
        == "430281199001011234"


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs a second connection writing while the rotation holds rows; "
                           "SQLite's IMMEDIATE transactions let one writer in at a time")
def test_a_phone_changed_while_the_rotation_reads_it_is_not_overwritten(
    settings, tmp_path: Path, real_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection changes a resident's phone between the rotation reading the row and
    writing it back: it must wait for the batch (here: its lock_timeout), never see its new
    phone replaced by the re-sealed old one while phone_hash keeps the new."""
    import threading

    import psycopg

    from wangge.registry.identity import mask_phone

    (tmp_path / "data_keys.json").write_text(real_keys)
    settings.DATA_DIR = tmp_path
    old = crypto.Keyring.from_json(real_keys)
    # only the phone column: the earlier columns' batches would hold the row in this test's
    # never-committed transaction and block the writer before the phone batch even starts
    [(phones, _)] = slice_sealed_fields(monkeypatch, only=[(Resident, "phone_enc")])
    target = Resident.objects.get(pk=phones.pks[0])
    before = bytes(target.phone_enc)
    new_phone = "13912345678"
    db = connection.settings_dict
    outcome: dict[str, Any] = {}

    def other_writer() -> None:
        try:
            with psycopg.connect(dbname=db["NAME"], host=db["HOST"] or None,
                                 port=db["PORT"] or None, user=db["USER"] or None,
                                 password=db["PASSWORD"] or None) as conn:
                conn.execute("SET lock_timeout = '1s'")
                conn.execute(
                    "UPDATE registry_resident SET phone_enc = %s, phone_hash = %s, "
                    "phone_masked = %s WHERE id = %s",
                    (crypto.seal(new_phone, old), crypto.blind_index(new_phone, old),
                     mask_phone(new_phone), target.pk))
            outcome["committed"] = True
        except psycopg.errors.LockNotAvailable:
            outcome["committed"] = False

    real_open = crypto.open_sealed

    def open_and_race(sealed: Any, ring: Any = None) -> str:
        if bytes(sealed) == before and not outcome:
            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(timeout=10)
        return real_open(sealed, ring)

    monkeypatch.setattr(crypto, "open_sealed", open_and_race)
    call_command("keys", "rotate", stdout=io.StringIO(), stderr=io.StringIO(), verbosity=0)
    monkeypatch.setattr(crypto, "open_sealed", real_open)
    assert outcome, "the other writer never ran"
    ring = crypto.keyring()
    row = Resident.objects.get(pk=target.pk)
    phone = crypto.open_sealed(row.phone_enc, ring)
    # the sealed phone and its search hash tell the same story
    assert crypto.blind_index(phone, ring) == row.phone_hash and mask_phone(phone) == \
        row.phone_masked
    assert outcome["committed"] is False  # it waited on the row the rotation held
    assert phone == real_open(before, old)


def test_no_key_file_is_made_for_sealed_values_before_the_fingerprint_table_exists(
    settings, tmp_path: Path, real_keys: str
) -> None:
    """An upgrade from before fingerprints, not migrated yet, started with a lost key file:
    the sealed values alone forbid a new key (and a wrong key file is still refused)."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{DataKeyFingerprint._meta.db_table}"')
    settings.DATA_DIR = tmp_path
    path = tmp_path / "data_keys.json"
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    assert str(path) in str(err.value) and "holds sealed values" in str(err.value)
    assert not path.exists()
    errors = data_keys_match_database()
    assert [e.id for e in errors] == ["wangge.E001"] and not path.exists()
    path.write_text(crypto.Keyring.generate().to_json())
    crypto._cache = None
    with pytest.raises(crypto.KeyCheckError, match="does not open the values in registry"):
        crypto.keyring()
    # the right key file passes against the sealed values; recorded once migrated
    path.write_text(real_keys)
    crypto._cache = None
    assert crypto.keyring() == crypto.Keyring.from_json(real_keys)
    assert data_keys_match_database() == []


def test_adopting_keys_checks_the_hash_key_against_the_search_hashes(
    settings, tmp_path: Path, real_keys: str
) -> None:
    """A database from before fingerprints and a key file with its data keys but another
    hash key: refused, or every exact ID number and phone search would silently miss."""
    DataKeyFingerprint.objects.all().delete()
    ring = crypto.Keyring.from_json(real_keys)
    other_hash = crypto.Keyring(bytes(range(32)), ring.keys)
    path = tmp_path / "data_keys.json"
    path.write_text(other_hash.to_json())
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError) as err:
        crypto.keyring()
    message = str(err.value)
    assert str(path) in message
    assert "the hash key does not make the search hashes in registry.Resident.id_number_hash" \
        in message
    assert not stored()  # nothing adopted
    assert [e.id for e in data_keys_match_database()] == ["wangge.E001"]
    out = io.StringIO()
    with pytest.raises(CommandError, match="hash key"):
        call_command("keys", "status", stdout=out)
    # the right hash key is adopted, and exact search finds the newest resident
    path.write_text(real_keys)
    crypto._cache = None
    assert crypto.keyring() == ring and stored() == crypto.fingerprints(ring)
    newest = Resident.objects.order_by("-pk").first()
    assert newest is not None
    number = crypto.open_sealed(newest.id_number_enc)
    assert Resident.objects.filter(id_number_hash=crypto.blind_index(number)).exists()


def test_a_registered_hash_probe_is_checked_too(
    settings, tmp_path: Path, real_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone's search hash, as another app would register a column of its own."""
    DataKeyFingerprint.objects.all().delete()
    monkeypatch.setattr(crypto, "_hash_probes", [])
    crypto.register_hash_probe("registry.Resident", "phone_enc", "phone_hash")
    crypto.register_hash_probe("nosuchapp.Model", "x_enc", "x_hash")  # not installed: skipped
    ring = crypto.Keyring.from_json(real_keys)
    (tmp_path / "data_keys.json").write_text(crypto.Keyring(bytes(32), ring.keys).to_json())
    settings.DATA_DIR = tmp_path
    with pytest.raises(crypto.KeyCheckError, match=r"registry\.Resident\.phone_hash"):
        crypto.keyring()
