"""The demo's disputes (矛盾纠纷排查调解), as the test session loaded them (conftest: two weeks
of fieldwork, so two weeks of disputes): a mediator at every level of every grid, the
proportions of the generator over a year, the labour-wage story complete, sealed and
synthetic parties, gapless numbers."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from wangge.core import crypto
from wangge.core.models import NumberCounter
from wangge.demo import disputes as demo
from wangge.demo.disputetext import ORG_STEMS
from wangge.demo.loader import demo_logins
from wangge.disputes.models import (
    Agreement,
    Alert,
    Dispute,
    Event,
    FollowUp,
    Party,
    Screening,
    Session,
    Signature,
)
from wangge.org.models import Role, RoleAssignment
from wangge.territory.models import Grid, Level

pytestmark = pytest.mark.django_db


def mediated_grids(level: int) -> set[int]:
    return set(RoleAssignment.objects.filter(
        role=Role.MEDIATOR, ended_on__isnull=True, grid__level=level).values_list(
        "grid_id", flat=True))


def test_every_grid_has_a_mediator_at_every_level() -> None:
    for level in (Level.BASIC, Level.VILLAGE, Level.TOWN):
        grids = set(Grid.objects.filter(level=level).values_list("id", flat=True))
        assert grids and grids <= mediated_grids(level), level
    assert len(mediated_grids(Level.CITY)) == 1
    assert RoleAssignment.objects.filter(role=Role.MEDIATOR, grid__level=Level.CITY,
                                         ended_on__isnull=True).count() == demo_city_mediators()
    # a basic grid's mediator is a person of its community (its 联组长), not a new person
    basic = Grid.objects.get(name=demo.STORY_GRID)
    chief = RoleAssignment.objects.get(role=Role.JOINT_GROUP_LEADER, grid=basic.parent,
                                       ended_on__isnull=True).person_id
    assert RoleAssignment.objects.filter(role=Role.MEDIATOR, grid=basic).get().person_id == chief
    logins = dict(demo_logins())
    assert {"mediator", "community_mediator", "joint_group_leader"} <= set(logins)
    community = get_user_model().objects.get(username="community_mediator").person
    assert community.roles.filter(role=Role.MEDIATOR, grid=basic.parent).exists()


def demo_city_mediators() -> int:
    from wangge.demo.loader import CITY_MEDIATORS

    return CITY_MEDIATORS


def test_the_span_has_returns_most_of_them_nil_and_gaps() -> None:
    today = timezone.localdate()
    screenings = Screening.objects.all()
    assert screenings.exists()
    assert screenings.filter(screened_at__gte=timezone.now()).count() == 0
    nil = screenings.filter(nil=True).count()
    assert nil > screenings.count() / 2  # most returns are nil
    # every return that is not nil lists what it found; a nil one lists nothing
    assert not Dispute.objects.filter(screening__nil=True).exists()
    assert Screening.objects.filter(nil=False, disputes__isnull=True).count() == 0
    # this month's and last month's returns: some grids have not screened (the gaps)
    basic = Grid.objects.filter(level=Level.BASIC).count()
    month = today.replace(day=1)
    last = (month - dt.timedelta(days=1)).replace(day=1)
    for start in (month, last):
        assert Screening.objects.filter(period_start=start).count() < basic


def test_a_year_of_the_generator_keeps_the_proportions() -> None:
    """The generator's draws over a year of Liling (no rows written): kinds, risk, paths."""
    grids, city = demo._inputs()
    today = timezone.localdate()
    h = demo._History(random.Random(5), grids, city, today - dt.timedelta(days=365), today,
                      None, demo.DisputesLoad(today, today))
    found = [h.found(grids[i % len(grids)], "screening", timezone.now(), None)
             for i in range(20_000)]
    kinds = Counter(f.kind for f in found)
    top = [k for k, _n in kinds.most_common(3)]
    assert set(top) == {"neighbour", "marriage_family", "labour"}
    assert kinds["domestic_violence"] / len(found) < 0.02
    assert len(kinds) == 13
    risks = Counter(f.risk for f in found)
    assert risks["low"] > 0.6 * len(found) and 0.03 * len(found) < risks["high"] < 0.12 * len(
        found)
    outcomes = Counter()
    for f in found[:5000]:
        _name, levels, outcome, _w = h.rng.choices(demo.PATHS, [p[3] for p in demo.PATHS])[0]
        steps = h.walk(f, levels, outcome)
        outcomes[outcome] += 1
        outcomes["escalated"] += any(s[0] == "escalated" for s in steps)
        outcomes["honoured"] += any(s[0] == "followed_up" and s[2]["honoured"] == "yes"
                                    for s in steps)
        assert [s[1] for s in steps] == sorted(s[1] for s in steps)
        assert steps[0][0] == "accepted"
    assert outcomes["agreed"] > 0.75 * 5000  # most mediated to an agreement
    assert 0.05 * 5000 < outcomes["referred"] < 0.15 * 5000
    assert 0.03 * 5000 < outcomes["withdrawn"] < 0.12 * 5000
    assert 0.15 * 5000 < outcomes["escalated"] < 0.4 * 5000
    assert outcomes["honoured"] > 0.9 * outcomes["agreed"]  # follow-ups mostly honoured


def test_the_history_is_consistent() -> None:
    now = timezone.now()
    disputes = Dispute.objects.exclude(screening__grid__name=demo.STORY_GRID,
                                       kind__code="labour", amount=demo.STORY_AMOUNT)
    assert disputes.count() > 20
    for d in disputes.prefetch_related("parties", "events", "assignments")[:300]:
        assert d.parties.count() >= 1
        assert d.reported_at <= now
        assert all(e.at <= now for e in d.events.all())
        kinds = [e.kind for e in d.events.all()]
        assert kinds[0] == Event.Kind.RECORDED
        if d.state in ("registered", "mediating", "agreed"):
            assert d.stage  # a running clock
        else:
            assert not d.stage and d.settled_at is not None
        if d.state == "mediating":
            assert d.mediator_id and d.assignments.filter(ended_at__isnull=True).exists()
        if d.state in ("agreed", "closed"):
            assert Agreement.objects.filter(dispute=d).exists()
        if d.state == "closed":
            assert Agreement.objects.filter(dispute=d, signed_at__isnull=False).exists()
        if d.state == "closed":
            assert d.follow_ups.filter(honoured="yes").exists()
        if d.risk == "high":
            assert Alert.objects.filter(dispute=d).count() == 2


def test_parties_are_sealed_and_synthetic() -> None:
    ring = crypto.keyring()
    outsiders = Party.objects.filter(resident__isnull=True)
    assert outsiders.filter(kind="person").exists()
    for p in outsiders.exclude(phone_enc=None)[:200]:
        phone = crypto.open_sealed(p.phone_enc, ring)
        assert phone.startswith(demo.OUTSIDER_PHONE_PREFIX), phone  # the synthetic block
        assert phone.encode() not in bytes(p.phone_enc)
        assert p.phone_masked != phone and p.phone_masked[:3] == phone[:3]
        assert p.phone_hash == crypto.blind_index(phone, ring)
    for p in outsiders.exclude(id_number_enc=None)[:100]:
        number = crypto.open_sealed(p.id_number_enc, ring)
        assert number.startswith("430281") and p.id_number_masked != number
    for p in outsiders.filter(kind="organisation")[:100]:
        assert any(stem in p.name for stem in ORG_STEMS), p.name
    for p in outsiders.filter(kind="person")[:100]:
        assert p.name_masked != p.name and p.name_masked[0] == p.name[0]
    # a resident party's contact data stays in the register: masked copies only
    residents = Party.objects.filter(resident__isnull=False)
    assert residents.exists()
    assert not residents.exclude(phone_enc=None).exists()
    for p in residents.select_related("resident")[:50]:
        assert p.phone_masked == p.resident.phone_masked and p.name == p.resident.name


def test_numbers_are_gapless_per_year() -> None:
    for prefix, model in (("TJ", Dispute), ("XY", Agreement)):
        numbers = list(model.objects.values_list("number", flat=True))
        assert len(numbers) == len(set(numbers))
        years = Counter(n[2:6] for n in numbers)
        for year, n in years.items():
            assert NumberCounter.objects.get(key=f"{prefix}{year}").last >= n
            seq = sorted(int(x[6:]) for x in numbers if x[2:6] == year)
            assert seq == list(range(seq[0], seq[0] + len(seq))), (prefix, year)
            assert all(re.fullmatch(rf"{prefix}\d{{10}}", x) for x in numbers)


def test_the_labour_wage_story_is_complete() -> None:
    d = Dispute.objects.get(grid__name=demo.STORY_GRID, kind__code="labour",
                            amount=demo.STORY_AMOUNT)
    today = timezone.localdate()
    assert d.state == "closed" and d.risk == "high" and d.source == "screening"
    assert d.subject == "拖欠8名工人工资"
    assert not d.screening.nil and d.screening.screened_by.user.username == demo.STORY_WORKER
    assert (today - timezone.localtime(d.reported_at).date()).days == demo.STORY_DAYS[
        "screened"]
    mediator = get_user_model().objects.get(username=demo.STORY_MEDIATOR).person
    assert d.mediator_id == mediator.pk and d.level == "grid"
    sessions = list(Session.objects.filter(dispute=d).order_by("held_at"))
    assert len(sessions) == 2
    agreement = Agreement.objects.get(dispute=d)
    assert sessions[-1].held_at <= agreement.made_at <= agreement.signed_at
    assert "46800" in agreement.terms and agreement.perform_by < today
    parties = list(d.parties.order_by("order"))
    assert [p.role for p in parties] == ["applicant", "respondent"]
    assert parties[1].kind == "organisation" and parties[1].name == demo.STORY_ORGANISATION
    signatures = Signature.objects.filter(agreement=agreement).select_related("image")
    assert {s.party_id for s in signatures} == {p.pk for p in parties}
    assert all(s.method == "phone" and s.image.content_type == "image/png"
               for s in signatures)
    follow_up = FollowUp.objects.get(dispute=d)
    assert follow_up.honoured == "yes" and agreement.signed_at < follow_up.at < timezone.now()
    kinds = list(d.events.order_by("at", "pk").values_list("kind", flat=True))
    for step in ("recorded", "accepted", "session", "agreed", "signed", "followed_up"):
        assert step in kinds, step
    assert kinds.index("recorded") < kinds.index("accepted") < kinds.index("agreed") < \
        kinds.index("followed_up")
    # the high-risk alert went to the workstation and the sub-center when it was found
    assert set(Alert.objects.filter(dispute=d).values_list("grid__level", flat=True)) == {2, 3}
