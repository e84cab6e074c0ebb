"""提醒: an SLA warning or breach reaches the people responsible for the case as an in-app
notification, through the worker's delivery loop; once each, only to people who may see
the case, and each person reads only their own."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.cases import jobs
from wangge.cases.models import Case, CaseClock, Notification
from wangge.cases.tests.helpers import act, post, report
from wangge.integration import delivery
from wangge.integration.models import Delivery, OutboxMessage, Subscription
from wangge.integration.senders import ResponsibleSender

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_these_cases() -> None:
    """The demo city's clocks and outbox rows are history here: only the test's case counts."""
    CaseClock.objects.update(status=CaseClock.Status.STOPPED)
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.DONE)


def deliver() -> delivery.Tally:
    """What the worker does each turn: fan out, then send everything due."""
    tally = delivery.Tally()
    tally.routed = delivery.route(100)
    while delivery.deliver_due("test-worker", batch=100, stopping=lambda: False, tally=tally):
        pass
    return tally


def told(no: str, kind: str) -> set[str]:
    return set(Notification.objects.filter(case__register_no=no, kind=kind)
               .values_list("user__username", flat=True))


def clock(no: str) -> CaseClock:
    return CaseClock.objects.get(case__register_no=no, code="resolve")


def test_warning_and_breach_reach_the_people_responsible_once(login_as) -> None:
    from wangge.territory.models import Grid

    grid = Grid.objects.get(name="胜利社区第1网格")
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), (grid.label_lng, grid.label_lat), category="0101",
                title="暴露垃圾")["register_no"]
    act(dispatcher, no, "register")

    jobs.sweep(clock(no).warn_at)
    tally = deliver()
    assert tally.delivered >= 1 and tally.dead == 0
    # registered at the workstation: waiting for the community's station to dispatch it
    assert told(no, "sla_warning") == {"station"}

    jobs.sweep(clock(no).deadline)
    deliver()
    case = Case.objects.get(register_no=no)
    assert case.handling_level == Case.Level.SUBCENTER
    # escalated: the sub-district's staff and supervisor now own a late, supervised case
    assert told(no, "sla_breach") == {"subcenter", "supervisor"}
    note = Notification.objects.filter(case=case, kind="sla_breach").first()
    assert note is not None and "超时" in note.note and "期限" in note.note

    # a message delivered again (delivery is at least once) tells nobody twice, nor anyone
    # who has become responsible since the first delivery
    before = Notification.objects.filter(case=case).count()
    Delivery.objects.filter(message__payload__register_no=no).update(
        status=Delivery.Status.PENDING, next_attempt_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        attempts=0)
    assert deliver().delivered >= 2
    assert Notification.objects.filter(case=case).count() == before


def test_a_late_delivery_tells_the_people_of_that_step(login_as, spot) -> None:
    """Warning and breach in one sweep, delivered after both: the warning still goes to the
    station that was to dispatch it then, the breach to the sub-district it went up to."""
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="暴露垃圾")["register_no"]
    act(dispatcher, no, "register")
    jobs.sweep(clock(no).deadline)
    deliver()
    assert told(no, "sla_warning") == {"station"}
    assert told(no, "sla_breach") == {"subcenter", "supervisor"}


def test_a_confidential_case_tells_only_those_who_may_see_it(login_as, spot) -> None:
    station, dispatcher, police = login_as("station"), login_as("dispatcher"), login_as("police")
    no = report(station, (spot[0], spot[1] + 0.0005), category="1201", channel="resident",
                title="出租屋可疑人员聚集")["register_no"]
    act(dispatcher, no, "register")
    r = act(dispatcher, no, "dispatch", department="public-security")
    assert r.status_code == 200, r.content
    jobs.sweep(clock(no).deadline)
    deliver()
    assert told(no, "sla_warning") == told(no, "sla_breach") == {"police"}
    # the sub-district's staff own the level now, but may not see a confidential case
    assert Case.objects.get(register_no=no).handling_level == Case.Level.SUBCENTER
    assert police.get("/api/v1/cases/notifications").json()[0]["register_no"] == no


def test_each_person_reads_and_clears_only_their_own(login_as, spot) -> None:
    dispatcher, station = login_as("dispatcher"), login_as("station")
    no = report(login_as("gridworker"), spot, category="0101", title="暴露垃圾")["register_no"]
    act(dispatcher, no, "register")
    jobs.sweep(clock(no).warn_at)
    deliver()
    (mine,) = Notification.objects.filter(case__register_no=no)

    page = station.get("/console/cases/notifications/").content.decode()
    assert no in page and "时限预警" in page and "即将到期" in page
    assert 'class="badge"' in station.get("/console/cases/").content.decode()
    listed = station.get("/api/v1/cases/notifications", {"unread": True}).json()
    assert [(n["id"], n["kind"], n["read"]) for n in listed] == [
        (mine.pk, "sla_warning", False)]

    # someone else's notification: not found, and not marked read by them
    other = login_as("gridworker")
    assert other.post(f"/console/cases/notifications/{mine.pk}/").status_code == 404
    assert no not in other.get("/console/cases/notifications/").content.decode()
    assert post(other, "/api/v1/cases/notifications/read", {"ids": [mine.pk]}).json() == {
        "read": 0}
    mine.refresh_from_db()
    assert mine.read_at is None

    # opening it goes to the case and marks it read; a plain link (GET) changes nothing
    assert station.get(f"/console/cases/notifications/{mine.pk}/").status_code == 405
    mine.refresh_from_db()
    assert mine.read_at is None
    r = station.post(f"/console/cases/notifications/{mine.pk}/")
    assert r.status_code == 302 and r["Location"].endswith(f"/console/cases/{no}/")
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert station.get("/api/v1/cases/notifications", {"unread": True}).json() == []
    assert 'class="badge"' not in station.get("/console/cases/").content.decode()


def test_the_sender_refuses_what_it_cannot_deliver() -> None:
    sub = Subscription.objects.get(name="responsible-people")
    assert sub.kind == "responsible" and sub.matches("case.sla_breach")
    assert not sub.matches("case.register")
    odd = OutboxMessage(topic="case.register", payload={"register_no": "x"},
                        idempotency_key="k1")
    out = ResponsibleSender().send(odd, sub)
    assert not out.ok and out.permanent and "case.register" in out.error
    # the pattern also matches the message that a waiting clock got its deadline: nothing
    # to tell, and no dead letter either
    quiet = OutboxMessage(topic="case.sla_deadline", payload={"register_no": "x"},
                          idempotency_key="k0")
    assert sub.matches(quiet.topic) and ResponsibleSender().send(quiet, sub).ok
    gone = OutboxMessage(topic="case.sla_breach", payload={"register_no": "LL-1900-000001"},
                         idempotency_key="k2")
    out = ResponsibleSender().send(gone, sub)
    assert not out.ok and out.permanent and "LL-1900-000001" in out.error
