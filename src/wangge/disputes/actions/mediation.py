"""Mediation level by level: grid mediator → workstation 调委会 → town 司法所/调委会 → city.

- do_accept(user, dispute_id, *, mediator_id=None): registered → mediating; the mediator
  (default: the user if they are a mediator of the handling grid, else the first of
  access.mediators_for(handling_grid)) is assigned; clock accept stops, mediate starts.
- do_assign(user, dispute_id, *, mediator_id): another mediator of the handling body.
- do_escalate(user, dispute_id, *, reason): one level up (Level order), handling_grid the
  ancestor at that level, the current assignment ends, state back to registered for the
  new body (clock accept restarts); at city level → DisputeError("level", ...).
- do_record_session(user, p): p = dispute_id, held_at, place, attendees, notes,
  photo_hashes; only while mediating (registered: accepted implicitly by its mediator).
- do_withdraw(user, dispute_id, *, reason): registered/mediating → withdrawn, clocks stop.

A mediator of the handling body is one holding a current MEDIATOR role on the handling grid
or above it (access.mediator_candidates): a basic grid without a mediator of its own is
served by its community's. The default prefers the handling grid's own mediators, then the
nearest body above.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wangge.disputes import access
from wangge.disputes.actions import clocks
from wangge.disputes.actions.common import (
    add_event,
    announce,
    end_assignment,
    for_change,
    named,
    require_state,
)
from wangge.disputes.actions.common import (
    dispute_id as read_dispute_id,
)
from wangge.disputes.actions.common import (
    reason as clean_reason,
)
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import (
    LEVEL_GRID_DEPTH,
    LEVEL_ORDER,
    Assignment,
    Dispute,
    Session,
    StageClock,
)
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.actions.visits import check_photos
from wangge.org.models import Person
from wangge.territory.models import Grid

#: photos one session may carry
MAX_PHOTOS = 9
#: states in which the dispute is still being mediated (or waits for a mediator)
UNSETTLED = (Dispute.State.REGISTERED, Dispute.State.MEDIATING)


def _default_mediator(user: AbstractBaseUser, d: Dispute) -> Person:
    me = access.person(user)
    if me is not None and access.mediator_candidates(d.handling_grid).filter(
            pk=me.pk).exists():
        return me
    bodies = Grid.objects.filter(path__in=d.handling_grid.ancestor_paths()).order_by("-level")
    for body in bodies:  # the handling grid's own mediators first, then the nearest above
        found = access.mediators_for(body).first()
        if found is not None:
            return found
    raise DisputeError("mediator_id", "no mediator serves this grid: name one", "no_mediator")


def _mediator(d: Dispute, pk: Any) -> Person:
    with named():
        mid = read.integer({"mediator_id": pk}, "mediator_id", low=1, high=2**63 - 1)
    found = access.mediator_candidates(d.handling_grid).filter(pk=mid).first()
    if found is None:
        raise DisputeError("mediator_id", "not a mediator of the body handling this dispute",
                           "not_mediator")
    return found


def _assign(d: Dispute, mediator: Person, at: Any) -> None:
    end_assignment(d, at)
    Assignment.objects.create(dispute=d, mediator=mediator, level=d.level,
                              handling_grid=d.handling_grid, assigned_at=at)
    d.mediator = mediator


def _take_up(user: AbstractBaseUser, d: Dispute, mediator: Person, at: Any) -> None:
    """registered → mediating with `mediator` (the dispute is saved by the caller)."""
    _assign(d, mediator, at)
    d.state = Dispute.State.MEDIATING
    clocks.start_stage(d, StageClock.Stage.MEDIATE, at)
    add_event(d, "accepted", user, at=at, mediator_id=mediator.pk, level=d.level)


def do_accept(user: AbstractBaseUser, dispute_id: int, *, mediator_id: int | None = None
              ) -> Dispute:
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, (Dispute.State.REGISTERED,), "accepted")
        mediator = (_mediator(d, mediator_id) if mediator_id is not None
                    else _default_mediator(user, d))
        now = timezone.now()
        _take_up(user, d, mediator, now)
        d.save()
        announce("disputes.accepted", d, user, mediator_name=mediator.name)
    return d


def do_assign(user: AbstractBaseUser, dispute_id: int, *, mediator_id: int) -> Dispute:
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, UNSETTLED, "assigned")
        mediator = _mediator(d, mediator_id)
        if mediator.pk == d.mediator_id:
            raise DisputeError("mediator_id", "already the dispute's mediator", "same")
        now = timezone.now()
        before = d.mediator_id
        _assign(d, mediator, now)
        d.save()
        add_event(d, "assigned", user, at=now, mediator_id=mediator.pk, previous=before)
        announce("disputes.assigned", d, user, previous_mediator_id=before)
    return d


def _body_grid(d: Dispute, level: str) -> Grid:
    depth = LEVEL_GRID_DEPTH[level]  # type: ignore[index]
    found = Grid.objects.filter(path__in=d.grid.ancestor_paths(), level=depth).first()
    if found is None:  # a shallower tree: the nearest grid above
        found = Grid.objects.filter(path__in=d.grid.ancestor_paths(),
                                    level__lt=depth).order_by("-level").first()
    return found or d.grid


def do_escalate(user: AbstractBaseUser, dispute_id: int, *, reason: str) -> Dispute:
    why = clean_reason(reason)
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, UNSETTLED, "escalated")
        at = LEVEL_ORDER.index(d.level)  # type: ignore[arg-type]
        if at + 1 >= len(LEVEL_ORDER):
            raise DisputeError("level", "already mediated at the city level: refer it",
                               "top_level")
        now = timezone.now()
        came_from, came_from_grid = d.level, d.handling_grid.code
        d.level = LEVEL_ORDER[at + 1]
        d.handling_grid = _body_grid(d, d.level)
        end_assignment(d, now)
        d.mediator = None
        d.state = Dispute.State.REGISTERED
        clocks.start_stage(d, StageClock.Stage.ACCEPT, now)
        d.save()
        add_event(d, "escalated", user, at=now, note=why, from_level=came_from,
                  to_level=d.level, from_grid=came_from_grid, to_grid=d.handling_grid.code)
        announce("disputes.escalated", d, user, from_level=came_from,
                 handling_grid_name=d.handling_grid.name)
    return d


def do_record_session(user: AbstractBaseUser, p: dict[str, Any]) -> Session:
    if not isinstance(p, dict):
        raise DisputeError("payload", "must be an object", "type")
    pk = read_dispute_id(p)
    with named():
        held_at = read.moment(p, "held_at")
        place = read.text(p, "place", required=True, max_length=200)
        attendees = read.text(p, "attendees", required=True)
        notes = read.text(p, "notes", required=True)
        photos = read.hashes(p, "photo_hashes", most=MAX_PHOTOS)
        check_photos(user, photos)
    with transaction.atomic():
        d = for_change(user, pk)
        require_state(d, UNSETTLED, "mediated")
        if timezone.localdate(held_at) < timezone.localdate(d.reported_at):
            raise DisputeError("held_at", "lies before the day the dispute was reported",
                               "before_report")
        now = timezone.now()
        if d.state == Dispute.State.REGISTERED:  # taken up by whoever mediates it now
            _take_up(user, d, _default_mediator(user, d), now)
        me = access.person(user)
        mediator = (me if me is not None and access.mediator_candidates(
            d.handling_grid).filter(pk=me.pk).exists() else d.mediator)
        s = Session.objects.create(dispute=d, held_at=held_at, place=place, level=d.level,
                                   mediator=mediator, attendees=attendees, notes=notes,
                                   photo_hashes=photos, recorded_by=user)
        d.save()
        add_event(d, "session", user, at=now, session_id=s.pk, held_at=held_at.isoformat(),
                  place=place)
        announce("disputes.session_recorded", d, user, session_id=s.pk,
                 held_at=held_at.isoformat(), session_mediator_id=mediator.pk,
                 photos=len(photos))
    return s


def do_withdraw(user: AbstractBaseUser, dispute_id: int, *, reason: str) -> Dispute:
    why = clean_reason(reason)
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, UNSETTLED, "withdrawn")
        now = timezone.now()
        d.state = Dispute.State.WITHDRAWN
        d.settled_at = now
        d.closed_at = now
        clocks.stop_stage(d)
        end_assignment(d, now)
        d.save()
        add_event(d, "withdrawn", user, at=now, note=why)
        announce("disputes.withdrawn", d, user)
    return d
