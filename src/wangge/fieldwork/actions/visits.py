"""走访: a visit to a household or a person in the register (`visit.create`).

The household / resident must be one the user may see in the register and in a grid where
they do field work (a grid worker: their own grid). Anything else is refused naming the
field, the same answer whether the record does not exist or is not theirs (no probing).
A visit moves the register's "last visited" forward (never back); the visited resident's
household counts as visited too. Photos are referred to by the hash of an Upload this user
sent first."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.fieldwork import access
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Upload, Visit, VisitKind
from wangge.registry import access as registry_access
from wangge.registry.actions import do_mark_visited
from wangge.registry.models import Household, Resident

#: photos one visit may carry
MAX_PHOTOS = 9


def visit_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    v = Visit.objects.select_related("kind", "grid").get(pk=pk)
    return visit_row(v)


def visit_row(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk, "worker_id": v.worker_id, "grid": v.grid.code, "grid_name": v.grid.name,
        "kind": v.kind.code, "kind_name": v.kind.name,
        "visited_at": v.visited_at.isoformat(), "household_id": v.household_id,
        "resident_id": v.resident_id, "people_met": v.people_met, "needs": v.needs,
        "help_given": v.help_given,
        "follow_up_on": v.follow_up_on.isoformat() if v.follow_up_on else None,
        "photo_hashes": list(v.photo_hashes),
    }


def _visible(user: AbstractBaseUser, model: type[Household] | type[Resident], pk: int,
             field: str) -> Any:
    try:
        return registry_access.access_record(user, model, pk)
    except Http404:
        raise FieldworkError(field, "no such record in your grid", "not_found") from None


def check_photos(user: AbstractBaseUser, hashes: list[str], field: str = "photo_hashes"
                 ) -> None:
    """Every hash names an Upload this user sent (photos go up before the envelopes)."""
    known = set(Upload.objects.filter(uploaded_by=user, sha256__in=hashes)
                .values_list("sha256", flat=True))
    for i, h in enumerate(hashes):
        if h not in known:
            raise FieldworkError(f"{field}.{i}", "no photo uploaded with this hash (upload it "
                                 "first)", "unknown_upload")


@register("visit.create", "fieldwork.visit", answer=visit_answer)
def apply_visit(user: AbstractBaseUser, env: Envelope) -> int:
    return do_record_visit(user, env.payload).pk


def do_record_visit(user: AbstractBaseUser, p: dict[str, Any]) -> Visit:
    """Validate, check, write: runs inside the sync engine's transaction."""
    worker = access.person_of(user)
    if worker is None:
        raise PermissionDenied("only a person on the staff records visits")
    visited_at = read.moment(p, "visited_at")
    kind = VisitKind.objects.filter(code=read.code(p, "kind")).first()
    if kind is None:
        raise FieldworkError("kind", "must be the code of a visit kind", "choice")
    household_id = read.optional_id(p, "household_id")
    resident_id = read.optional_id(p, "resident_id")
    if household_id is None and resident_id is None:
        raise FieldworkError("household_id", "a household or a resident is required",
                             "required")
    household = (_visible(user, Household, household_id, "household_id")
                 if household_id else None)
    resident = _visible(user, Resident, resident_id, "resident_id") if resident_id else None
    if household and resident and resident.household_id not in (None, household.pk):
        raise FieldworkError("resident_id", "this resident is not of that household",
                             "mismatch")
    grid = household.grid if household else resident.grid  # type: ignore[union-attr]
    if not access.can_write_field(user, grid):
        # seen through a role that reads (sub-center, center, public security): not a visitor
        raise PermissionDenied("you do no field work in this grid")
    people_met = read.integer(p, "people_met", low=1, high=1000)
    day = timezone.localdate(visited_at)
    follow_up_on = read.day(p, "follow_up_on", required=False)
    if follow_up_on is not None and follow_up_on < day:
        raise FieldworkError("follow_up_on", "lies before the visit", "before_visit")
    photos = read.hashes(p, "photo_hashes", most=MAX_PHOTOS)
    check_photos(user, photos)
    visit = Visit.objects.create(
        worker=worker, grid=grid, kind=kind, visited_at=visited_at, household=household,
        resident=resident, people_met=people_met,
        needs=read.text(p, "needs"), help_given=read.text(p, "help_given"),
        follow_up_on=follow_up_on, photo_hashes=photos)
    households = [household.pk] if household else []
    if resident and resident.household_id and not households:
        households = [resident.household_id]
    do_mark_visited(day=day, household_ids=households,
                    resident_ids=[resident.pk] if resident else [])
    audit.record("fieldwork.visited", actor=user, object_type="fieldwork.visit",
                 object_id=visit.pk, grid=grid.code, kind=kind.code, people_met=people_met)
    outbox.enqueue("fieldwork.visited", {
        "visit_id": visit.pk, "grid": grid.code, "kind": kind.code, "worker_id": worker.pk,
        "visited_at": visited_at.isoformat(), "household_id": visit.household_id,
        "resident_id": visit.resident_id, "people_met": people_met,
        "follow_up_on": follow_up_on.isoformat() if follow_up_on else None})
    return visit
