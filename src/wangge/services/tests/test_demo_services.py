"""The demo's service year (demo.service_year) and its stories (demo.service_story), on the
test session's city (two weeks loaded): the source's proportions, timelines that agree
with the states, the five seniors, the worker's plan today, sealed applicants, speed and
determinism of the bulk load."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from django.db import transaction
from django.utils import timezone

from wangge.core import crypto
from wangge.demo.service_story import ELDERLY_CARD
from wangge.demo.service_year import load_service_year
from wangge.fieldwork.models import Appointment
from wangge.registry.identity import parse_id_number
from wangge.registry.models import Resident
from wangge.services.models import (
    Application,
    ApplicationEvent,
    ProxyEvent,
    ProxyRequest,
    ServiceItem,
)

pytestmark = pytest.mark.django_db

P = ProxyRequest.State
A = Application.State
#: the steps every delivered request went through, in this order
DELIVERED_PATH = ["book", "collect", "submit", "passed", "ready", "deliver"]
STORY_NOTE = "五位老人约好不出门"


class Rollback(Exception):
    pass


def test_fifty_items_by_proxy_and_the_elderly_and_insurance_ones_most_asked() -> None:
    assert ServiceItem.objects.filter(proxy_eligible=True, active=True).count() == 50
    assert ServiceItem.objects.count() == 664
    by_item = Counter(ProxyRequest.objects.values_list("item__name", flat=True))
    assert sum(by_item.values()) > 1500  # ~181 a day, fewer at weekends, over two weeks
    top = [name for name, _n in by_item.most_common(6)]
    for word in ("老年人优待证", "高龄津贴", "基本医疗保险", "基本养老保险"):
        assert any(word in name for name in top), (word, top)
    assert set(ProxyRequest.objects.values_list("item__proxy_eligible", flat=True)) == {True}


def test_proxy_requests_are_mostly_delivered_and_rated_well() -> None:
    old = ProxyRequest.objects.filter(created_at__lt=timezone.now() - dt.timedelta(days=10))
    assert old.filter(state__in=[P.DELIVERED, P.RATED]).count() >= 0.6 * old.count() > 0
    states = Counter(ProxyRequest.objects.values_list("state", flat=True))
    # the last weeks hold some of every open state, and a few returned or rejected
    for state in (P.BOOKED, P.COLLECTED, P.IN_REVIEW, P.HANDLING, P.READY, P.RETURNED,
                  P.REJECTED):
        assert states[state] > 0, state
    assert states[P.RATED] == max(states.values())
    ratings = list(ProxyRequest.objects.filter(rating__isnull=False).values_list(
        "rating", flat=True))
    assert sum(r >= 4 for r in ratings) >= 0.9 * len(ratings)  # 非常满意 / 满意


def test_every_timeline_agrees_with_its_state() -> None:
    events: dict[int, list[tuple]] = defaultdict(list)
    for pk, action, before, after, at in ProxyEvent.objects.order_by("at", "id").values_list(
            "proxy_id", "action", "from_state", "to_state", "at"):
        events[pk].append((action, before, after, at))
    rows = ProxyRequest.objects.values_list("pk", "state", "delivered_at", "collected_at",
                                            "application__state")
    for pk, state, delivered, collected, app_state in rows:
        steps = events[pk]
        assert steps and steps[0][0] == "book", pk
        # a chain: each step leaves the state the previous one entered
        assert all(b[1] == a[2] for a, b in pairwise(steps)), steps
        assert steps[-1][2] == state, (pk, state, steps)
        assert [s[3] for s in steps] == sorted(s[3] for s in steps)
        if state in (P.DELIVERED, P.RATED):
            actions = [s[0] for s in steps]
            assert set(DELIVERED_PATH) <= set(actions), actions
            positions = [actions.index(a) for a in DELIVERED_PATH]
            assert positions == sorted(positions), actions
            assert delivered is not None and collected is not None and app_state == A.PASSED
        else:
            assert delivered is None, pk


def test_applications_online_mostly_pass_some_corrected_some_rejected_a_few_breached() -> None:
    public = Application.objects.filter(channel=Application.Channel.PUBLIC)
    states = Counter(public.values_list("state", flat=True))
    decided = states[A.PASSED] + states[A.REJECTED] + states[A.RETURNED]
    assert states[A.PASSED] >= 0.75 * decided > 0
    assert states[A.REJECTED] > 0
    corrected = public.filter(state=A.PASSED, events__action="resubmitted").distinct()
    assert corrected.exists()
    breached = public.filter(breached_at__isnull=False)
    assert breached.exists()
    assert all(a.decided_at is None or a.decided_at > a.due_at for a in breached)
    assert set(public.values_list("item__online_prereview", flat=True)) == {True}
    # the timeline's last state is the application's
    last: dict[int, str] = {}
    for pk, to in ApplicationEvent.objects.filter(application__in=public).order_by(
            "at", "id").values_list("application_id", "to_state"):
        last[pk] = to
    assert all(last[pk] == state for pk, state in public.values_list("pk", "state"))


def test_applicants_are_the_registers_residents_sealed_as_it_seals_them() -> None:
    sample = list(ProxyRequest.objects.filter(resident__isnull=False).order_by("pk")[:20])
    residents = Resident.objects.in_bulk([p.resident_id for p in sample])
    for p in sample:
        r = residents[p.resident_id]
        assert (p.applicant_name, p.id_number_masked, p.id_number_hash) == (
            r.name, r.id_number_masked, r.id_number_hash)
        number = crypto.open_sealed(p.id_number_enc)
        assert parse_id_number(number).number == number
        assert number not in p.id_number_masked


def test_the_five_seniors_were_served_in_one_visit_to_one_building() -> None:
    story = ProxyRequest.objects.filter(note__startswith=STORY_NOTE).select_related(
        "house", "application__decided_by", "authorization")
    assert story.count() == 5
    assert len({p.house.building_id for p in story}) == 1
    for p in story:
        assert ELDERLY_CARD in p.item.name
        assert p.state == P.RATED and p.rating == 5
        assert p.application.state == A.PASSED
        assert p.application.decided_by.username == "civil_affairs"
        assert p.authorization.signature.content_type == "image/png"
        assert p.delivery_signature_id and p.delivery_photo_id and p.originals_returned_at
        assert p.application.files.exists()
    assert len({p.worker_id for p in story}) == 1


def test_the_workers_plan_today_holds_real_proxy_requests_of_one_building() -> None:
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    booked = Appointment.objects.filter(
        worker__user__username="gridworker", purpose=Appointment.Purpose.PROXY,
        at__gte=start, at__lt=start + dt.timedelta(days=1), proxy_request__isnull=False,
        proxy_request__note__startswith="约好不出门").select_related("proxy_request", "house")
    assert booked.count() == 5
    assert len({a.house.building_id for a in booked}) == 1
    assert {a.proxy_request.state for a in booked} == {P.BOOKED}
    # not the five of the story (they have had their card renewed already)
    story = set(ProxyRequest.objects.filter(note__startswith=STORY_NOTE).values_list(
        "resident_id", flat=True))
    assert len(story) == 5 and not story & {a.resident_id for a in booked}


def test_fourteen_days_load_the_same_for_the_same_seed() -> None:
    today = timezone.localdate()
    since, until = today - dt.timedelta(days=400), today - dt.timedelta(days=386)

    def load() -> list[tuple]:
        try:
            with transaction.atomic():
                counts = load_service_year(seed=7, since=since, until=until, story=False)
                assert counts["proxy_requests"] > 1500
                rows = list(ProxyRequest.objects.filter(created_at__lt=timezone.make_aware(
                    dt.datetime.combine(until, dt.time.min))).order_by("no").values_list(
                    "no", "item_id", "resident_id", "state", "delivered_at", "rating"))
                raise Rollback
        except Rollback:
            return rows

    assert load() == load()
