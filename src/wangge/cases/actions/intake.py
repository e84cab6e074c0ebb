"""上报 and what it needs: the gapless register number, the duplicate search, photos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wangge.cases import access
from wangge.cases.actions.common import record_event
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.geo import first_within
from wangge.cases.models import Case, CaseCategory, CaseEvent, CasePhoto, RegisterCounter
from wangge.cases.photos import CheckedPhoto, check_photo
from wangge.cases.workflow import PHOTO_STAGES, State
from wangge.core import idempotency
from wangge.org.access import roles_of
from wangge.org.models import Department, Role, RoleAssignment
from wangge.territory import lookup
from wangge.territory.models import Grid


def next_register_no(now: dt.datetime) -> str:
    """The next number of the year, gapless: the counter row stays locked until the creating
    transaction ends, so a number is used exactly when its case is committed. Call it as late
    in the transaction as possible: every intake waits on this row."""
    year = timezone.localtime(now).year
    table = connection.ops.quote_name(RegisterCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last",
                       [year])
        row = cursor.fetchone()
    if row is None:  # the year's first case; a concurrent first one loses on the key, retries
        try:
            with transaction.atomic():
                RegisterCounter.objects.create(year=year, last=1)
        except IntegrityError:
            return next_register_no(now)
        row = (1,)
    return f"{settings.WANGGE_CASE_PREFIX}-{year}-{row[0]:06d}"


def find_duplicate(category: CaseCategory, lng: float | None, lat: float | None,
                   now: dt.datetime) -> int | None:
    """The id of the first open case of the same category within the radius and window."""
    if lng is None or lat is None:
        return None
    return first_within(Case.objects.filter(category=category).exclude(
        state__in=[State.REJECTED, State.CANCELLED]), lng, lat, now)


def _reporter_grid(actor: AbstractBaseUser) -> Grid | None:
    row = RoleAssignment.objects.filter(person__user=actor, role=Role.GRID_WORKER,
                                        ended_on__isnull=True).select_related("grid").first()
    return row.grid if row else None


#: who chooses the channel of what they register (a call, a visitor at the desk …)
CHANNEL_CHOOSERS = frozenset({Role.DISPATCHER, Role.ADMIN, Role.SUBCENTER_STAFF,
                              Role.STATION_STAFF})


def _is_external_system(user: AbstractBaseUser) -> bool:
    # the service user of an external system (a department of kind `external`)
    return Department.objects.filter(service_user_id=user.pk).exists()


def allowed_channels(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The channels this user may report through: `external` only for an external system's
    service user; grid workers always as grid workers; people without a role as residents;
    the desks and other staff choose among the rest (how the matter came in)."""
    every = list(Case.Channel.values)
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return every
    if _is_external_system(user):
        return [Case.Channel.EXTERNAL]
    roles = roles_of(user)
    if Role.GRID_WORKER in roles and not roles & CHANNEL_CHOOSERS:
        return [Case.Channel.GRID_WORKER]
    if not roles:
        return [Case.Channel.RESIDENT]
    return [c for c in every if c != Case.Channel.EXTERNAL]


def check_report(actor: AbstractBaseUser | AnonymousUser, channel: str) -> None:
    """Raise CaseError naming `channel` unless the actor may report through it."""
    allowed = allowed_channels(actor)
    if channel not in allowed:
        raise CaseError("channel", f"{channel!r} is not a channel this user reports through"
                                   f" (allowed: {', '.join(allowed) or 'none'})")


def do_report(data: dict[str, Any], actor: AbstractBaseUser, *, channel: str,
              client_key: str | None = None, photos: Sequence[bytes] = ()) -> Case:
    """上报: a new case in state `reported`. The location fixes the basic grid, else the
    reporter's own grid. A replayed client key returns the first case."""
    return report_or_replay(data, actor, channel=channel, client_key=client_key,
                            photos=photos).case


@dataclass
class Reported:
    case: Case
    replayed: bool
    #: for a new case, what the response shows without reading it back
    timeline: list[CaseEvent] | None = None
    photos: list[CasePhoto] | None = None


def _replayed(actor: AbstractBaseUser, client_key: str | None) -> int | None:
    try:
        return idempotency.replayed(actor, client_key, "case")
    except idempotency.KeyRefused as e:
        raise CaseError(e.field, str(e)) from None


def report_or_replay(data: dict[str, Any], actor: AbstractBaseUser, *, channel: str,
                     client_key: str | None = None,
                     photos: Sequence[bytes] = ()) -> Reported:
    """do_report, also saying whether the client key was a replay (the API answers 200
    instead of 201)."""
    if (earlier := _replayed(actor, client_key)) is not None:
        return Reported(Case.objects.get(pk=earlier), True)
    check_report(actor, channel)
    checked = _check_photos(photos, already=0)
    category = CaseCategory.objects.filter(code=str(data.get("category") or "")).first()
    if category is None or category.parent_id is None:
        raise CaseError("category", "must be the code of a small class of the classification")
    title = str(data.get("title") or "").strip()
    if not title:
        raise CaseError("title", "required")
    if len(title) > 100:
        raise CaseError("title", "at most 100 characters")
    lng, lat = data.get("lng"), data.get("lat")
    grid = None
    if lng is not None and lat is not None:
        chain = lookup.locate(float(lng), float(lat))
        if chain is None:
            raise CaseError("lat", "the location lies outside the territory")
        grid = Grid.objects.get(code=chain[-1].code)
    else:
        grid = _reporter_grid(actor)
        if grid is None:
            raise CaseError("lat", "a location is required (the reporter has no grid)")
    now = timezone.now()
    try:
        with transaction.atomic():
            duplicate = find_duplicate(category, lng, lat, now)  # before the counter's lock
            case = Case.objects.create(
                register_no=next_register_no(now), category=category, grid=grid, lng=lng,
                lat=lat, title=title, description=str(data.get("description") or ""),
                channel=channel, reporter=actor, state=State.REPORTED,
                confidential=category.confidential, duplicate_of_id=duplicate,
            )
            idempotency.remember(actor, client_key, "case", case.pk)
            stored = _store_photos(case, CasePhoto.Stage.REPORT, checked, actor)
            event = record_event(case, actor, "report", "",
                                 possible_duplicate=duplicate is not None, photos=len(checked))
    except IntegrityError:
        # the same key sent twice at once: the other request made the case
        if (earlier := _replayed(actor, client_key)) is not None:
            return Reported(Case.objects.get(pk=earlier), True)
        raise
    return Reported(case, False, [event], stored)


def _check_photos(photos: Sequence[bytes], already: int) -> list[CheckedPhoto]:
    if already + len(photos) > settings.WANGGE_PHOTOS_PER_STAGE:
        raise CaseError("photos", f"at most {settings.WANGGE_PHOTOS_PER_STAGE} photos per stage")
    return [check_photo(raw) for raw in photos]


def _store_photos(case: Case, stage: str, checked: list[CheckedPhoto],
                  actor: AbstractBaseUser) -> list[CasePhoto]:
    stored = []
    known = set(case.photos.values_list("sha256", flat=True)) if checked else set()
    for photo in checked:
        if photo.sha256 in known:  # a retried upload: the first one stands
            continue
        known.add(photo.sha256)
        row = CasePhoto(case=case, stage=stage, content_type=photo.content_type,
                        size=len(photo.content), width=photo.width, height=photo.height,
                        sha256=photo.sha256, uploaded_by=actor)
        row.file.save(f"photo{photo.suffix}", ContentFile(photo.content), save=False)
        row.save()
        stored.append(row)
    return stored


def do_add_photos(case: Case, actor: AbstractBaseUser, *, stage: str,
                  photos: Sequence[bytes]) -> list[CasePhoto]:
    """Photos of the report, of the handling (处置反馈) or of the verification (核查)."""
    if stage not in PHOTO_STAGES:
        raise CaseError("stage", f"must be one of {', '.join(PHOTO_STAGES)}")
    if not photos:
        raise CaseError("photos", "at least one photo")
    actors, states = PHOTO_STAGES[stage]
    if not access.actor_kinds(actor, case) & actors:
        raise PermissionDenied(f"you may not add {stage} photos to this case")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.state not in states:
            raise IllegalTransition(f"cannot add {stage} photos to a case that is {case.state}")
        checked = _check_photos(photos, case.photos.filter(stage=stage).count())
        stored = _store_photos(case, stage, checked, actor)
        if stored:
            record_event(case, actor, "photos", case.state, stage=stage, photos=len(stored))
    return stored

