"""The pre-review clock as the department and the center notice it: a warning some office
hours before the deadline, a breach after it, escalated once (the sweep is frozen in time by
passing `now`; a second sweep changes nothing)."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.services.actions import applications as apps
from wangge.services.actions.clocks import sweep_clocks
from wangge.services.models import Application
from wangge.services.tests.prereview_helpers import make_item, pdf, png

pytestmark = pytest.mark.django_db


def submitted() -> Application:
    make_item(days=1)
    a = apps.do_open_application(None, item_code="T-MZ-001", applicant={"name": "刘桂兰"})
    apps.do_upload_material(None, a, "id_card", png(), "image/png")
    apps.do_upload_material(None, a, "hukou", pdf(), "application/pdf")
    return apps.do_submit(None, a)


def test_breach_is_escalated_once() -> None:
    a = submitted()
    assert a.due_at is not None
    # long before the deadline: nothing (the demo's own applications may be swept)
    sweep_clocks(a.submitted_at + dt.timedelta(minutes=1))  # type: ignore[operator]
    a.refresh_from_db()
    assert a.breached_at is None
    after = a.due_at + dt.timedelta(minutes=5)
    counts = sweep_clocks(after)
    assert counts["prereview_breached"] >= 1  # type: ignore[operator]
    assert counts["prereview_escalated"] == counts["prereview_breached"]
    a.refresh_from_db()
    assert a.breached_at == after and a.escalated_at == after and a.state == "submitted"
    escalated = OutboxMessage.objects.filter(topic="services.prereview_escalated",
                                             payload__no=a.no)
    assert escalated.count() == 1
    assert escalated.get().payload["escalate_to"] == ["civil-affairs", "center"]
    assert AuditEntry.objects.filter(action="services.application.escalated",
                                     object_id=str(a.pk)).count() == 1
    assert a.events.filter(action="escalated").count() == 1
    # a second sweep is a no-op
    again = sweep_clocks(after)
    assert again["prereview_breached"] == 0 and again["prereview_warned"] == 0
    assert again["proxy_breached"] == 0 and again["proxy_warned"] == 0
    sweep_clocks(after + dt.timedelta(hours=1))
    a.refresh_from_db()
    assert a.breached_at == after
    assert escalated.count() == 1 and a.events.filter(action="escalated").count() == 1


def test_warning_before_the_deadline_once() -> None:
    a = submitted()
    assert a.due_at is not None
    before = a.due_at - dt.timedelta(minutes=30)
    counts = sweep_clocks(before)
    assert counts["prereview_warned"] >= 1  # type: ignore[operator]
    a.refresh_from_db()
    assert a.warned_at == before and a.breached_at is None
    assert sweep_clocks(before)["prereview_warned"] == 0
    assert OutboxMessage.objects.filter(topic="services.prereview_warning",
                                        payload__no=a.no).count() == 1


def test_decided_applications_are_not_swept() -> None:
    from wangge.services.tests.prereview_helpers import user

    a = submitted()
    apps.do_decide(user("civil_affairs"), a, "reject", "不符合条件")
    assert a.due_at is not None
    sweep_clocks(a.due_at + dt.timedelta(days=3))
    a.refresh_from_db()
    assert a.breached_at is None and a.escalated_at is None
    assert not a.events.filter(action="escalated").exists()


def test_resubmission_starts_a_new_clock() -> None:
    from wangge.services.tests.prereview_helpers import user

    reviewer = user("civil_affairs")
    a = submitted()
    apps.do_check_material(reviewer, a, "id_card", "accepted")
    apps.do_check_material(reviewer, a, "hukou", "correct", "看不清")
    apps.do_decide(reviewer, a, "return")
    a.refresh_from_db()
    apps.do_upload_material(None, a, "hukou", png("blue"), "image/png")
    a = apps.do_submit(None, a)
    assert a.breached_at is None and a.warned_at is None and a.round == 2
