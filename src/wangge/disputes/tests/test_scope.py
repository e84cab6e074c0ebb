"""Scope of disputes (issue 17, "Confidentiality and scope"): who learns a dispute exists,
who reads the parties' names whole, that an outsider's phone and ID number are never stored
in plain text and open only with a stated purpose that is logged, and that a sensitive kind
(family violence) — or a dispute marked sensitive — is narrowed to its recorder, its
mediators and the admins. Written from the contract in access.py / actions/records.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.disputes import access
from wangge.disputes.actions.mediation import do_accept, do_escalate
from wangge.disputes.actions.records import (
    do_record_dispute,
    do_reveal_party,
    do_set_sensitive,
    party_row,
)
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import Dispute, Event, Party
from wangge.disputes.tests.conftest_stories import (
    OUTSIDER,
    OUTSIDER_PHONE,
    World,
    dispute_payload,
    outsider_party,
    world,
)

__all__ = ["world"]  # the fixture, imported for pytest

User = get_user_model()


def fresh(d: Dispute) -> Dispute:
    return Dispute.objects.get(pk=d.pk)


def with_outsider(w: World, recorder: str = "gridworker", **over: object) -> Dispute:
    """A dispute between a resident of the register and a named outsider (phone, ID)."""
    return do_record_dispute(w.u(recorder), dispute_payload(w, parties=[
        {"role": "applicant", "kind": "person", "resident_id": w.resident.pk},
        outsider_party()], **over))


def sees(w: World, name: str, d: Dispute) -> bool:
    """Whether the user learns the dispute exists: in their list, its record opens, and the
    same through the API (list and page); all four must agree."""
    user = w.u(name)
    listed = access.visible_disputes(user).filter(pk=d.pk).exists()
    try:
        access.access_dispute(user, d.pk)
        opens = True
    except Http404:
        opens = False
    client = Client()
    client.force_login(user)
    page = client.get(f"/api/v1/disputes/{d.pk}")
    assert page.status_code in (200, 404), (name, page.status_code)
    rows = client.get("/api/v1/disputes/", {"grid": d.grid.code, "limit": 200})
    assert rows.status_code == 200, (name, rows.status_code)
    api_listed = d.number in [r["number"] for r in rows.json()["items"]]
    assert listed == opens == (page.status_code == 200) == api_listed, (
        f"{name}: list {listed}, record {opens}, API page {page.status_code}, "
        f"API list {api_listed}")
    return listed


# -- who learns a dispute exists --------------------------------------------------------------


def test_a_worker_of_another_grid_sees_nothing_of_it(world: World) -> None:
    w = world
    d = with_outsider(w)
    other = w.u("other_worker")
    assert not sees(w, "other_worker", d)
    assert not access.can_mediate(other, d) and not access.sees_parties(other, d)
    assert not access.visible_disputes(other).filter(grid=w.basic).exists()
    with pytest.raises((PermissionDenied, Http404)):
        do_reveal_party(other, d.parties.get(resident__isnull=True).pk, purpose="核实情况")
    # while the worker of the dispute's own grid does
    assert sees(w, "gridworker", d)


def test_a_line_department_sees_no_dispute_at_all(world: World) -> None:
    w = world
    d = with_outsider(w)
    for name in ("department", "hr"):
        user = w.u(name)
        assert not access.visible_disputes(user).exists(), name
        assert not access.visible_screenings(user).exists(), name
        assert not access.visible_alerts(user).exists(), name
        with pytest.raises(Http404):
            access.access_dispute(user, d.pk)
        assert not access.can_record(user, w.basic)


# -- parties' names: masked in lists, whole for those who mediate or recorded it ----------------


def test_names_are_masked_in_lists_and_for_chain_roles_without_sees_parties(
        world: World) -> None:
    w = world
    d = with_outsider(w)
    applicant = d.parties.get(resident=w.resident)
    outsider = d.parties.get(resident__isnull=True)
    assert outsider.name == OUTSIDER
    for p in (applicant, outsider):
        assert p.name_masked != p.name and p.name_masked[0] == p.name[0]
        row = party_row(p, whole=False)
        assert p.name not in json.dumps(row, ensure_ascii=False)
        assert p.name_masked in json.dumps(row, ensure_ascii=False)
    # the chain above the grid sees the dispute but not who is in it
    for name in ("grid_chief", "supervisor", "leader"):
        assert sees(w, name, d), name
        assert not access.sees_parties(w.u(name), d), name
        with pytest.raises((PermissionDenied, Http404)):
            do_reveal_party(w.u(name), outsider.pk, purpose="了解情况")
    # the mediator of the grid and the worker who recorded it: whole names on the page
    for name in ("grid_mediator", "gridworker"):
        assert access.sees_parties(w.u(name), d), name
        for p in (applicant, outsider):
            row = party_row(p, whole=access.sees_parties(w.u(name), d))
            assert p.name in json.dumps(row, ensure_ascii=False)
    # a list is masked even for those who may see the parties whole (API and console)
    for name in ("grid_mediator", "gridworker", "center_admin"):
        client = Client()
        client.force_login(w.u(name))
        listed = client.get("/api/v1/disputes/", {"grid": w.basic.code, "limit": 200}).json()
        row = next(r for r in listed["items"] if r["number"] == d.number)
        text = json.dumps(row, ensure_ascii=False)
        assert applicant.name_masked in text and outsider.name_masked in text, name
        assert applicant.name not in text and OUTSIDER not in text, name
        html = client.get("/console/disputes/").content.decode()
        assert d.number in html and OUTSIDER not in html, name
    # even whole, a row carries no contact data: that opens only through a logged reveal
    for whole in (False, True):
        text = json.dumps(party_row(outsider, whole=whole), ensure_ascii=False)
        assert OUTSIDER_PHONE not in text


def test_an_outsiders_phone_and_id_are_never_stored_in_plain_text(world: World) -> None:
    w = world
    marks = {m: m.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
             for m in (AuditEntry, OutboxMessage)}
    d = with_outsider(w, risk="high")  # an alert's outbox message too
    outsider = d.parties.get(resident__isnull=True)
    id_number = outsider_party()["id_number"]
    secrets = [OUTSIDER_PHONE, id_number, id_number[6:14]]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Party._meta.db_table} WHERE id = %s", [outsider.pk])
        row = cursor.fetchone()
    assert row is not None
    for value in row:
        raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for secret in secrets:
            assert secret.encode() not in raw, f"{secret} stored in plain text"
    assert outsider.phone_masked == "135****0906"
    assert outsider.id_number_masked and id_number not in outsider.id_number_masked
    # nor copied into the timeline, the audit log or the outbox
    written = [json.dumps(e.data, ensure_ascii=False) + e.note
               for e in Event.objects.filter(dispute=d)]
    written += [json.dumps(a.detail, ensure_ascii=False)
                for a in AuditEntry.objects.filter(pk__gt=marks[AuditEntry])]
    written += [json.dumps(m.payload, ensure_ascii=False)
                for m in OutboxMessage.objects.filter(pk__gt=marks[OutboxMessage])]
    for text in written:
        for secret in secrets:
            assert secret not in text


def test_a_reveal_needs_a_purpose_and_is_logged(world: World) -> None:
    w = world
    d = with_outsider(w)
    outsider = d.parties.get(resident__isnull=True)
    mediator = w.u("grid_mediator")
    logged = AuditEntry.objects.count()
    mark = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for purpose in ("", "   "):
        with pytest.raises(DisputeError) as e:
            do_reveal_party(mediator, outsider.pk, purpose=purpose)
        assert e.value.field == "purpose"
    assert AuditEntry.objects.count() == logged  # a refused reveal opens and logs nothing
    purpose = "电话通知当事人调解时间"
    whole = do_reveal_party(mediator, outsider.pk, purpose=purpose)
    assert OUTSIDER_PHONE in json.dumps(whole)
    assert outsider_party()["id_number"] in json.dumps(whole)
    entries = [a for a in AuditEntry.objects.filter(pk__gt=mark).order_by("pk")
               if a.actor_id == mediator.pk and purpose in json.dumps(a.detail,
                                                                       ensure_ascii=False)]
    assert len(entries) == 1, "the reveal is logged once, with who and why"
    assert OUTSIDER_PHONE not in json.dumps(entries[0].detail)


# -- sensitive kinds --------------------------------------------------------------------------

#: the grid's chain and the center's other roles: none of them learns of a sensitive dispute
NARROWED_OUT = ("gridworker", "station", "subcenter", "grid_chief", "supervisor", "leader",
                "dispatcher", "mediator", "other_worker", "department")


def test_a_family_violence_dispute_is_narrowed_to_recorder_mediators_and_admins(
        world: World) -> None:
    w = world
    d = do_record_dispute(w.u("grid_mediator"), dispute_payload(
        w, kind="domestic_violence", subject="丈夫酒后多次殴打妻子", amount=None,
        source="resident", risk="high", parties=[outsider_party("applicant", name="林晓梅"),
                                    outsider_party("respondent")]))
    assert d.sensitive  # the kind's default
    # high risk, yet no alert names it to the workstation or the sub-center
    for name in ("station", "subcenter"):
        assert not access.visible_alerts(w.u(name)).filter(dispute=d).exists(), name
    for name in NARROWED_OUT:
        assert not sees(w, name, d), name
        assert not access.can_mediate(w.u(name), d), name
    for name in ("grid_mediator", "center_admin", "admin"):
        assert sees(w, name, d), name
    # named nowhere for the chain, not even on the console's list; counted in its figures
    station = Client()
    station.force_login(w.u("station"))
    html = station.get("/console/disputes/", {"state": "all"}).content.decode()
    assert d.number not in html and "丈夫酒后" not in html
    assert access.counted_disputes(w.u("station")).filter(pk=d.pk).exists()
    # the workstation's mediator it is escalated to takes it up and sees it; its staff do not
    do_escalate(w.u("grid_mediator"), d.pk, reason="需社区调委会介入")
    do_accept(w.u("ws_mediator"), d.pk)
    assert sees(w, "ws_mediator", d)
    assert sees(w, "grid_mediator", d)  # recorded it
    for name in NARROWED_OUT:
        assert not sees(w, name, d), name


def test_marking_a_dispute_sensitive_narrows_it_at_once(world: World) -> None:
    w = world
    d = do_record_dispute(w.u("grid_mediator"), dispute_payload(
        w, kind="neighbour", subject="邻里噪音纠纷", amount=None, source="resident",
        parties=[outsider_party("applicant", name="林晓梅"), outsider_party("respondent")]))
    do_accept(w.u("grid_mediator"), d.pk)
    chain = ("gridworker", "station", "subcenter", "grid_chief", "leader")
    for name in chain:
        assert sees(w, name, d), name
    with pytest.raises((PermissionDenied, Http404)):
        do_set_sensitive(w.u("grid_chief"), d.pk, sensitive=True, reason="涉及隐私")
    assert not fresh(d).sensitive
    do_set_sensitive(w.u("grid_mediator"), d.pk, sensitive=True,
                     reason="实为家庭暴力引发，当事人要求保密")
    assert fresh(d).sensitive
    for name in chain:
        assert not sees(w, name, d), name
    for name in ("grid_mediator", "center_admin", "admin"):
        assert sees(w, name, d), name
    marked = Event.objects.filter(dispute=d, kind="sensitive").get()
    assert marked.actor_id == w.users["grid_mediator"].pk
    assert "家庭暴力" in marked.note + json.dumps(marked.data, ensure_ascii=False)


# -- masking of names of any length (hypothesis) ----------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


NAME_CHARS = st.characters(categories=("Lo", "Lu", "Ll"), max_codepoint=0x9FFF)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(name=st.text(NAME_CHARS, min_size=1, max_size=120))
def test_an_outsiders_name_of_any_length_is_masked_or_refused_naming_it(
        world: World, name: str) -> None:
    w = world
    with rolled_back():
        try:
            d = do_record_dispute(w.u("gridworker"), dispute_payload(
                w, parties=[outsider_party("applicant", name=name)]))
        except DisputeError as e:
            assert len(name) > 100, f"{name!r} refused: {e}"
            assert e.field.startswith("parties"), e.field
            return
        assert len(name) <= 100
        party = d.parties.get()
        stored, masked = party.name, party.name_masked
        assert stored and masked != stored
        assert masked[0] == stored[0] and set(masked[1:]) == {"*"}
        assert party_row(party, whole=False)["name"] == masked
        assert party_row(party, whole=True)["name"] == stored
