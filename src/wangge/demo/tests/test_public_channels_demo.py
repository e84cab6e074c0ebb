"""The demo's public channels (demo.public_channels) over the test city's year of cases:
resident reports with sealed synthetic phones, ratings in a 12345 hotline's proportions,
a few reopened cases with their timeline, unrated closed cases for the 回访 desk, and
residents' opinions and questions, some answered — and nothing personal in clear."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.db.models import Count, F
from django.utils import timezone

from wangge.cases.models import Case, CaseEvent, Rating, ResidentReport
from wangge.cases.workflow import State
from wangge.core import crypto
from wangge.demo.people import PHONE_PREFIX
from wangge.fieldwork.models import Opinion

pytestmark = pytest.mark.django_db

_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_a_share_of_resident_cases_came_in_as_reports() -> None:
    resident = Case.objects.filter(channel=Case.Channel.RESIDENT, confidential=False).count()
    reports = ResidentReport.objects.count()
    assert resident > 100
    assert 0.3 * resident < reports <= resident
    sources = Counter(ResidentReport.objects.values_list("source", flat=True))
    assert set(sources) == {"qr", "web", "open311"}
    assert sources["qr"] > sources["open311"]
    assert not ResidentReport.objects.filter(case__confidential=True).exists()
    # every report's kind is its case's small class
    assert not ResidentReport.objects.exclude(
        public_category__category=F("case__category")).exists()


def test_phones_are_synthetic_sealed_and_masked() -> None:
    with_phone = ResidentReport.objects.exclude(phone_enc=None)
    anonymous = ResidentReport.objects.filter(anonymous=True)
    assert with_phone.exists() and anonymous.exists()
    for r in with_phone[:50]:
        phone = crypto.open_sealed(r.phone_enc)
        assert phone.startswith(PHONE_PREFIX)  # the demo's never-dialled block
        assert r.phone_masked == f"{phone[:3]}****{phone[-4:]}"
        assert r.phone_hash == crypto.blind_index(phone)
        assert not r.anonymous
    # in clear nowhere: the masked column, the case text, the timeline
    for masked in with_phone.values_list("phone_masked", flat=True)[:200]:
        assert "****" in masked and not _PHONE.search(masked)
    for text in Case.objects.filter(resident_report__isnull=False).values_list(
            "description", flat=True)[:500]:
        assert not _PHONE.search(text)
    for note in CaseEvent.objects.filter(case__resident_report__isnull=False).values_list(
            "note", flat=True)[:2000]:
        assert not _PHONE.search(note)
    opinions = Opinion.objects.exclude(public_no=None).exclude(phone_enc=None)
    assert opinions.exists()
    for o in opinions[:20]:
        assert crypto.open_sealed(o.phone_enc).startswith(PHONE_PREFIX)
        assert "****" in o.phone_masked


def test_ratings_look_like_a_hotline_and_match_the_cases() -> None:
    levels = Counter(Rating.objects.filter(reopened=False).values_list("level", flat=True))
    total = sum(levels.values())
    assert total > 50
    assert (levels[5] + levels[4]) / total > 0.75
    unsatisfied = Rating.objects.filter(level__lte=2).count()
    assert unsatisfied / Rating.objects.count() < 0.12
    # the final rating is the case's satisfaction, and a rated case is evaluated
    finals = Rating.objects.filter(reopened=False).select_related("case")[:300]
    for r in finals:
        assert r.case.state == State.EVALUATED and r.case.satisfaction == r.level
    # a case is rated once, or twice when the first one reopened it
    per_case = Counter(Rating.objects.values_list("case_id", flat=True))
    assert max(per_case.values()) <= 2


def test_a_reopened_case_has_its_rework_on_the_timeline() -> None:
    reopened = Case.objects.filter(reopen_count=1)
    assert reopened.exists()
    case = reopened.first()
    assert case.rework_count >= 1 and case.state == State.EVALUATED
    first, last = list(case.ratings.order_by("created_at"))
    assert first.reopened and first.level <= 2 and not last.reopened
    actions = list(case.events.order_by("at", "id").values_list("action", flat=True))
    assert "reopen" in actions
    after = actions[actions.index("reopen"):]
    assert after.index("close") < after.index("evaluate")
    assert Case.objects.filter(reopen_count__gt=1).count() == 0  # at most once (the rule)


def test_the_followup_desk_has_recent_unrated_cases() -> None:
    now = timezone.now()
    unrated = Case.objects.filter(
        channel=Case.Channel.RESIDENT, state=State.CLOSED, ratings__isnull=True,
        closed_at__gte=now - dt.timedelta(days=7), closed_at__lt=now - dt.timedelta(days=2))
    assert unrated.count() >= 3
    # nothing older waits for a call forever
    assert not Case.objects.filter(channel=Case.Channel.RESIDENT, state=State.CLOSED,
                                   closed_at__lt=now - dt.timedelta(days=8)).exists()


def test_residents_opinions_and_questions_some_answered() -> None:
    mine = Opinion.objects.exclude(public_no=None)
    kinds = dict(mine.values_list("kind").annotate(n=Count("id")))
    assert kinds.get("opinion", 0) > 0 and kinds.get("question", 0) > 0
    assert mine.filter(state=Opinion.State.ANSWERED).exclude(answer="").exists()
    assert mine.filter(state=Opinion.State.RECORDED).exists() or mine.count() < 10
    for o in mine[:50]:
        assert re.fullmatch(r"MY-\d{4}-\d{6,}", o.public_no) and len(o.follow_code) == 8
        assert o.source == Opinion.Source.RESIDENT
        assert o.author.roles.filter(grid=o.grid, role="grid_worker").exists()
