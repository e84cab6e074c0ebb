"""Seeds, the dispute record (parties sealed like the register), screening returns and the
high-risk alert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.disputes import access
from wangge.disputes.actions.records import (
    do_record_dispute,
    do_reveal_party,
    do_set_sensitive,
    party_row,
)
from wangge.disputes.actions.screening import do_record_screening, do_see_alert, period_of
from wangge.disputes.actions.seeds import do_seed_disputes
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import (
    Alert,
    Dispute,
    DisputeKind,
    Event,
    Party,
    Screening,
    ScreeningRule,
    StageClock,
)
from wangge.disputes.tests.conftest import (
    AT,
    LAST_MONTH,
    OUTSIDER_ID,
    OUTSIDER_PHONE,
    dispute_payload,
    item,
    person,
)

pytestmark = pytest.mark.django_db



def counts() -> tuple[int, int, int, int, int]:
    return (Dispute.objects.count(), Party.objects.count(), Screening.objects.count(),
            Alert.objects.count(), OutboxMessage.objects.filter(
                topic__startswith="disputes.").count())


# -- seeds ---------------------------------------------------------------------------------

def test_seeds_the_thirteen_kinds_rules_and_clocks_once(place) -> None:  # type: ignore[no-untyped-def]
    assert DisputeKind.objects.count() == 13
    assert DisputeKind.objects.get(code="domestic_violence").sensitive
    assert set(DisputeKind.objects.filter(money=True).values_list("code", flat=True)) == {
        "labour", "land_requisition", "contract_debt", "medical", "traffic", "consumer"}
    assert DisputeKind.objects.get(code="labour").name == "劳资纠纷"
    assert ScreeningRule.objects.get(grid=place.city).period == "month"
    assert dict(StageClock.objects.values_list("stage", "working_days")) == {
        "accept": 3, "mediate": 30, "follow_up": 10}
    # a city's own edit survives a second run, which adds nothing
    DisputeKind.objects.filter(code="labour").update(name="劳动争议")
    assert do_seed_disputes() == {"kinds": 0, "rules": 0, "clocks": 0}
    assert DisputeKind.objects.get(code="labour").name == "劳动争议"


def test_period_follows_the_deepest_rule(place) -> None:  # type: ignore[no-untyped-def]
    day = dt.date(2026, 11, 19)  # a Thursday
    assert period_of(place.basic, day) == ("month", dt.date(2026, 11, 1))
    ScreeningRule.objects.create(grid=place.village, period="week")
    assert period_of(place.basic, day) == ("week", dt.date(2026, 11, 16))
    assert period_of(place.far, day) == ("month", dt.date(2026, 11, 1))


# -- the record ----------------------------------------------------------------------------

def test_records_a_dispute_with_sealed_parties(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    assert d.number.startswith("TJ2026") and len(d.number) == 12
    assert (d.state, d.level, d.handling_grid, d.stage) == ("registered", "grid", place.basic,
                                                            "accept")
    assert str(d.amount) == "86000.00"
    applicant, employer = d.parties.all()
    assert applicant.name_masked == "王**" and applicant.phone_masked == "139****5678"
    assert applicant.id_number_masked == "430281********2370"
    assert employer.name_masked == "示例建筑劳务有限公司"  # an organisation is not personal data
    # no plaintext phone or ID number anywhere in the row as stored
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM disputes_party WHERE id = %s", [applicant.pk])
        stored = " ".join(str(bytes(v) if isinstance(v, memoryview) else v)
                          for v in cur.fetchone())
    assert OUTSIDER_PHONE not in stored and OUTSIDER_ID not in stored
    assert applicant.phone_hash and applicant.id_number_hash
    assert party_row(applicant, whole=False)["name"] == "王**"
    assert party_row(applicant, whole=True)["name"] == "王测试"
    assert Event.objects.filter(dispute=d, kind="recorded").count() == 1
    assert AuditEntry.objects.filter(action="disputes.recorded", object_id=str(d.pk)).exists()
    msg = OutboxMessage.objects.get(topic="disputes.recorded", payload__number=d.number)
    assert "王测试" not in str(msg.payload) and OUTSIDER_PHONE not in str(msg.payload)


def test_a_resident_party_stays_in_the_register(place, staff, resident) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic, parties=[
        {"role": "applicant", "resident_id": resident.pk}]))
    party = d.parties.get()
    assert party.resident == resident and party.phone_enc is None
    assert party.id_number_masked == resident.id_number_masked
    assert party.name_masked != resident.name
    # the resident leaves the register (moved away): the dispute keeps its party by name
    name, masked = party.name, party.name_masked
    resident.delete()
    party.refresh_from_db()
    assert (party.resident, party.name, party.name_masked) == (None, name, masked)


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"kind": "no_such"}, "kind", "choice"),
    ({"risk": "extreme"}, "risk", "choice"),
    ({"subject": ""}, "subject", "required"),
    ({"amount": "-5"}, "amount", "range"),
    ({"amount": "12.345"}, "amount", "range"),
    ({"amount": "abc"}, "amount", "invalid"),
    ({"parties": []}, "parties", "required"),
    ({"reported_at": "2026-11-20T10:00:00"}, "reported_at", "naive_time"),
    ({"sensitive": "yes"}, "sensitive", "type"),
    ({"case_id": 2**40}, "case_id", "not_found"),
    ({"source": "rumour"}, "source", "choice"),
    ({"parties": [{"role": "judge", "name": "李测试"}]}, "parties.0.role", "choice"),
    ({"parties": [{"role": "applicant", "name": ""}]}, "parties.0.name", "required"),
    ({"parties": [{"role": "applicant", "name": "李测试", "phone": "12345"}]},
     "parties.0.phone", "invalid"),
    ({"parties": [{"role": "applicant", "name": "李测试", "id_number": "430281199001011234"}]},
     "parties.0.id_number", "invalid"),
    ({"parties": [{"role": "applicant", "resident_id": 2**40}]},
     "parties.0.resident_id", "not_found"),
])
def test_bad_input_names_the_field_and_writes_nothing(place, staff, change, field, code
                                                      ) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(DisputeError) as e:
        do_record_dispute(staff.worker, dispute_payload(place.basic, **change))
    assert (e.value.field, e.value.code) == (field, code)
    assert counts() == before


def test_grid_must_be_basic_and_in_scope(place, staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DisputeError) as e:
        do_record_dispute(staff.worker, dispute_payload(place.village))
    assert e.value.field == "grid_id" and e.value.code == "not_basic"
    with pytest.raises(PermissionDenied):
        do_record_dispute(staff.far_worker, dispute_payload(place.basic))
    with pytest.raises(PermissionDenied):  # a line department records none
        do_record_dispute(staff.department, dispute_payload(place.basic))
    # the station and the sub-center record in their subtree
    assert do_record_dispute(staff.station, dispute_payload(place.sibling)).grid == place.sibling
    assert do_record_dispute(staff.subcenter, dispute_payload(place.basic)).pk


def test_scope_of_a_dispute(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    for who in (staff.worker, staff.grid_mediator, staff.station, staff.subcenter,
                staff.town_mediator, staff.dispatcher, staff.admin):
        assert access.visible_disputes(who).filter(pk=d.pk).exists()
    for who in (staff.far_worker, staff.sibling_worker, staff.department):
        assert not access.visible_disputes(who).filter(pk=d.pk).exists()
        with pytest.raises(Http404):
            access.access_dispute(who, d.pk)


def test_a_sensitive_kind_is_narrowed(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(
        place.basic, kind="domestic_violence", amount=None, subject="家暴求助"))
    assert d.sensitive
    sees = {staff.worker, staff.grid_mediator, staff.admin}  # recorder, its body, admins
    for who in (staff.worker, staff.grid_mediator, staff.station, staff.subcenter,
                staff.town_mediator, staff.dispatcher, staff.admin):
        assert access.visible_disputes(who).filter(pk=d.pk).exists() == (who in sees), who
    # counted, never named
    assert access.counted_disputes(staff.station).filter(pk=d.pk).exists()
    told = OutboxMessage.objects.get(topic="disputes.recorded", payload__number=d.number)
    # neither its subject nor its kind (家庭暴力) reaches the receivers
    assert (told.payload["subject"], told.payload["kind"], told.payload["kind_name"]) == (
        "", "", "")


def test_a_sensitive_kind_is_not_lowered_at_creation(place, staff) -> None:  # type: ignore[no-untyped-def]
    before = Dispute.objects.count()
    with pytest.raises(DisputeError) as e:
        do_record_dispute(staff.worker, dispute_payload(
            place.basic, kind="domestic_violence", amount=None, sensitive=False))
    assert (e.value.field, e.value.code) == ("sensitive", "below_kind")
    assert Dispute.objects.count() == before
    # raising an ordinary kind to sensitive at creation is fine
    assert do_record_dispute(staff.worker, dispute_payload(place.basic,
                                                           sensitive=True)).sensitive


def test_a_sensitive_high_risk_dispute_alerts_its_bodies_unnamed(place, staff) -> None:  # type: ignore[no-untyped-def]
    was = {u: access.unnamed_alerts(u) for u in (staff.station, staff.subcenter)}
    d = do_record_dispute(staff.worker, dispute_payload(
        place.basic, kind="domestic_violence", amount=None, risk="high"))
    # the station and the sub-center may not see it, yet learn that it exists
    for who in (staff.station, staff.subcenter):
        assert not access.visible_alerts(who).filter(dispute=d).exists()
        assert access.unnamed_alerts(who) == was[who] + 1, who
    # nobody else's count, and none for those who see it named
    assert access.unnamed_alerts(staff.worker) == 0
    assert access.unnamed_alerts(staff.far_worker) == 0
    assert access.unnamed_alerts(staff.admin) == 0
    # closed (withdrawn): no longer counted
    from wangge.disputes.actions.mediation import do_withdraw

    do_withdraw(staff.grid_mediator, d.pk, reason="当事人撤回")
    assert access.unnamed_alerts(staff.station) == was[staff.station]


def test_marking_sensitive(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    with pytest.raises(DisputeError) as e:
        do_set_sensitive(staff.grid_mediator, d.pk, sensitive=True, reason="")
    assert e.value.field == "reason"
    with pytest.raises(PermissionDenied):  # sees it, does not mediate it
        do_set_sensitive(staff.leader, d.pk, sensitive=True, reason="领导要求")
    do_set_sensitive(staff.grid_mediator, d.pk, sensitive=True, reason="当事人要求保密")
    assert not access.visible_disputes(staff.station).filter(pk=d.pk).exists()
    assert Event.objects.filter(dispute=d, kind="sensitive").exists()


def test_reveal_is_logged_and_scoped(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    applicant = d.parties.get(role="applicant")
    with pytest.raises(DisputeError) as e:
        do_reveal_party(staff.grid_mediator, applicant.pk, purpose="")
    assert e.value.field == "purpose"
    with pytest.raises(Http404):
        do_reveal_party(staff.far_worker, applicant.pk, purpose="核实身份")
    with pytest.raises(PermissionDenied):  # sees the dispute, may not mediate it
        do_reveal_party(staff.leader, applicant.pk, purpose="核实身份")
    whole = do_reveal_party(staff.grid_mediator, applicant.pk, purpose="电话通知调解时间")
    assert whole["phone"] == OUTSIDER_PHONE and whole["id_number"] == OUTSIDER_ID
    log = AuditEntry.objects.get(action="disputes.party_revealed", object_id=str(applicant.pk))
    assert log.detail["purpose"] == "电话通知调解时间" and log.actor == staff.grid_mediator


# -- screening -----------------------------------------------------------------------------

def test_a_nil_return_and_a_second_one_refused(place, staff) -> None:  # type: ignore[no-untyped-def]
    s = do_record_screening(staff.worker, {"nil": True, "screened_at": AT,
                                           "mediator_id": person(staff.grid_mediator).pk})
    assert (s.grid, s.period, s.period_start, s.nil) == (place.basic, "month",
                                                         LAST_MONTH, True)
    assert s.disputes.count() == 0
    assert OutboxMessage.objects.filter(topic="disputes.screened",
                                        payload__screening_id=s.pk).exists()
    before = counts()
    with pytest.raises(DisputeError) as e:
        do_record_screening(staff.grid_mediator, {"grid_id": place.basic.pk, "nil": True,
                                                  "screened_at": AT.replace("-20T", "-28T")})
    assert (e.value.field, e.value.code) == ("grid", "already_screened")
    assert counts() == before


def test_items_become_disputes_of_the_screening(place, staff) -> None:  # type: ignore[no-untyped-def]
    s = do_record_screening(staff.worker, {"screened_at": AT, "items": [
        item(), item(kind="neighbour", amount=None, subject="噪音扰民", risk="low",
                     grid_id=place.far.pk, source="hotline_12345")]})
    found = list(s.disputes.order_by("pk"))
    assert [(d.kind.code, d.source, d.grid) for d in found] == [
        ("labour", "screening", place.basic), ("neighbour", "screening", place.basic)]
    assert found[0].reported_at.isoformat() == AT.replace("T10:00:00+08:00", "T02:00:00+00:00")
    assert not Alert.objects.filter(dispute__screening=s).exists()  # nothing high


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"nil": True, "items": [item()]}, "items", "nil_with_items"),
    ({"nil": False}, "items", "required"),
    ({"nil": "no", "items": [item()]}, "nil", "type"),
    ({"items": [item(), item(risk="huge")]}, "items.1.risk", "choice"),
    ({"items": [item(parties=[{"role": "applicant", "name": "赵测试", "phone": "x"}])]},
     "items.0.parties.0.phone", "invalid"),
    ({"items": ["nothing"]}, "items.0", "type"),
    ({"nil": True, "mediator_id": 2**40}, "mediator_id", "not_mediator"),
    ({"nil": True, "screened_at": "2099-01-01T00:00:00+08:00"}, "screened_at", "future"),
])
def test_a_bad_return_names_the_field_and_writes_nothing(place, staff, body, field, code
                                                         ) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(DisputeError) as e:
        do_record_screening(staff.worker, {"screened_at": AT, **body})
    assert (e.value.field, e.value.code) == (field, code)
    assert counts() == before  # the second item failing leaves no first dispute either


def test_screening_scope(place, staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        do_record_screening(staff.far_worker, {"grid_id": place.basic.pk, "nil": True})
    with pytest.raises(DisputeError) as e:  # the station has no grid of its own
        do_record_screening(staff.station, {"nil": True})
    assert e.value.field == "grid_id"
    s = do_record_screening(staff.station, {"grid_id": place.sibling.pk, "nil": True})
    assert access.visible_screenings(staff.sibling_worker).filter(pk=s.pk).exists()
    assert not access.visible_screenings(staff.worker).filter(pk=s.pk).exists()


def test_a_high_risk_item_alerts_the_workstation_and_the_subcenter(place, staff
                                                                   ) -> None:  # type: ignore[no-untyped-def]
    s = do_record_screening(staff.worker, {"screened_at": AT, "items": [item(risk="high")]})
    d = s.disputes.get()
    alerts = Alert.objects.filter(dispute=d)
    assert {a.grid for a in alerts} == {place.village, place.town}
    msg = OutboxMessage.objects.get(topic="disputes.high_risk", payload__number=d.number)
    assert (msg.payload["workstation"], msg.payload["subcenter"]) == (place.village.code,
                                                                      place.town.code)
    assert msg.payload["risk"] == "high" and msg.payload["kind"] == "labour"
    station_alert = access.visible_alerts(staff.station).get(dispute=d)
    assert station_alert.grid == place.village
    assert access.visible_alerts(staff.subcenter).get(dispute=d).grid == place.town
    assert not access.visible_alerts(staff.worker).exists()
    assert not access.visible_alerts(staff.town_mediator).exists()
    with pytest.raises(Http404):
        do_see_alert(staff.subcenter, station_alert.pk)
    seen = do_see_alert(staff.station, station_alert.pk)
    assert seen.seen_by == staff.station and seen.seen_at is not None
    again = do_see_alert(staff.station, station_alert.pk)
    assert again.seen_at == seen.seen_at  # the first look counts
    assert AuditEntry.objects.filter(action="disputes.alert_seen",
                                     object_id=str(station_alert.pk)).count() == 1


def test_a_screening_return_older_than_the_last_period_is_refused(place, staff) -> None:  # type: ignore[no-untyped-def]
    """Last month's return may come late; one for a period before that is refused naming
    screened_at, and nothing is written."""
    before_last = (LAST_MONTH - dt.timedelta(days=1)).replace(day=20)
    before = counts()
    with pytest.raises(DisputeError) as e:
        do_record_screening(staff.worker, {"nil": True,
                                           "screened_at": f"{before_last}T10:00:00+08:00"})
    assert (e.value.field, e.value.code) == ("screened_at", "too_old")
    assert counts() == before
    late = do_record_screening(staff.worker, {"nil": True, "screened_at": AT})
    assert late.period_start == LAST_MONTH


def test_mediable_ids_agree_with_can_mediate_and_can_follow_up(place, staff) -> None:  # type: ignore[no-untyped-def]
    from wangge.disputes.actions.mediation import do_accept, do_escalate

    mine = do_record_dispute(staff.worker, dispute_payload(place.basic))
    up = do_record_dispute(staff.worker, dispute_payload(place.basic, risk="low"))
    do_accept(staff.grid_mediator, up.pk)
    do_escalate(staff.grid_mediator, up.pk, reason="需社区调委会调解")
    do_record_dispute(staff.worker, dispute_payload(place.basic, kind="domestic_violence",
                                                     amount=None))
    every = Dispute.objects.filter(grid=place.basic)
    for who in (staff.worker, staff.grid_mediator, staff.station_mediator, staff.station,
                staff.subcenter, staff.leader, staff.far_worker, staff.admin,
                staff.sibling_worker, staff.dispatcher):
        mediate, follow = access.mediable_ids(who, every)
        for d in every.select_related("mediator", "handling_grid"):
            assert (d.pk in mediate) == access.can_mediate(who, d), (who, d.pk)
            assert (d.pk in follow) == access.can_follow_up(who, d), (who, d.pk)
    assert mine.pk in access.mediable_ids(staff.worker, every)[1]
