"""报到: a grid worker's morning check-in (envelope `checkin.create`).

Where and when a check-in counts is data (FieldRule, the deepest rule above the worker's
grid); `place` and `late` are decided once, when the check-in is recorded, so a later rule
change does not rewrite history."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from wangge.cases.geo import metres
from wangge.core import audit
from wangge.core.outbox import enqueue
from wangge.fieldwork import access
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import CheckIn, FieldRule
from wangge.territory import lookup
from wangge.territory.models import Grid

#: without any rule on the worker's grid or above it
DEFAULT_START = dt.time(8, 30)
#: a device clock may run a little fast; beyond this a check-in "from the future" is refused
CLOCK_SKEW = dt.timedelta(minutes=10)


# -- payload parsing shared by the day's actions -------------------------------------------

def safe_date(value: Any) -> dt.date | None:
    """YYYY-MM-DD, or None (also for a well-formed impossible date such as 2026-02-30, and
    for years whose next day a datetime cannot hold)."""
    try:
        day = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 9000 else None


def parse_at(value: Any, field: str = "at") -> dt.datetime:
    """An ISO 8601 time with an offset (the phone's local time says nothing without it)."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is not None and not 1900 <= moment.year <= 9000:
        moment = None
    if moment is None:
        raise FieldworkError(field, _("须为带时区的 ISO 8601 时间"), "invalid_datetime")
    if timezone.is_naive(moment):
        raise FieldworkError(field, _("须带时区偏移（如 +08:00）"), "naive_datetime")
    if moment > timezone.now() + CLOCK_SKEW:
        raise FieldworkError(field, _("不能晚于当前时间"), "in_future")
    return moment


def parse_text(payload: dict[str, Any], field: str, max_length: int, *,
               required: bool = False) -> str:
    raw = payload.get(field)
    text = "" if raw is None else raw
    if not isinstance(text, str):
        raise FieldworkError(field, _("须为文本"), "type")
    text = text.strip()
    if required and not text:
        raise FieldworkError(field, _("必填"), "required")
    if len(text) > max_length:
        raise FieldworkError(field, _("最多 %(n)d 个字") % {"n": max_length}, "too_long")
    if "\x00" in text:
        raise FieldworkError(field, _("不能包含空字符"), "null_character")
    return text


def _number(payload: dict[str, Any], field: str, lo: float, hi: float) -> float | None:
    raw = payload.get(field)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise FieldworkError(field, _("须为数字"), "type")
    if not lo <= raw <= hi:
        raise FieldworkError(field, _("超出范围 %(lo)s–%(hi)s") % {"lo": lo, "hi": hi}, "range")
    return float(raw)


# -- the rules ------------------------------------------------------------------------------

def rule_for(grid: Grid, rules: dict[str, FieldRule] | None = None) -> FieldRule | None:
    """The deepest FieldRule on the grid or above it. `rules` (by grid path) lets a board
    decide for many workers from one query."""
    if rules is None:
        rules = {r.grid.path: r for r in FieldRule.objects.filter(
            grid__path__in=ancestor_paths(grid.path)).select_related("grid")}
    for path in reversed(ancestor_paths(grid.path)):
        if path in rules:
            return rules[path]
    return None


def ancestor_paths(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/", "/a/b/c/"] (the grid itself included)."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def start_of(rule: FieldRule | None) -> tuple[dt.time, int]:
    return (rule.start_time, rule.grace_minutes) if rule else (DEFAULT_START, 0)


def is_late(local: dt.datetime, rule: FieldRule | None) -> bool:
    """Late when the local time is after the start time plus grace (exactly on it is not)."""
    start, grace = start_of(rule)
    limit = dt.datetime.combine(local.date(), start, tzinfo=local.tzinfo) + dt.timedelta(
        minutes=grace)
    return local > limit


def place_of(grid: Grid, rule: FieldRule | None, lng: float | None, lat: float | None) -> str:
    if lng is None or lat is None:
        return CheckIn.Place.NONE
    if (rule is not None and rule.station_lng is not None and rule.station_lat is not None
            and metres(lng, lat, rule.station_lng, rule.station_lat) <= rule.station_radius_m):
        return CheckIn.Place.STATION
    if rule is None or rule.in_grid_counts:
        chain = lookup.locate(lng, lat)
        if chain is not None and chain[-1].code == grid.code:
            return CheckIn.Place.GRID
    return CheckIn.Place.ELSEWHERE


# -- the action -----------------------------------------------------------------------------

def do_check_in(user: AbstractBaseUser, payload: dict[str, Any]) -> CheckIn:
    """Record the user's check-in. Only a current grid worker checks in, once a day."""
    person, grid = access.person_of(user), access.worker_grid(user)
    if person is None or grid is None:
        raise PermissionDenied(_("只有在岗网格员可以报到"))
    at = parse_at(payload.get("at"))
    status = payload.get("status", CheckIn.Status.ON_DUTY)
    if status not in CheckIn.Status.values:
        raise FieldworkError("status", _("须为 %(v)s 之一") % {
            "v": ", ".join(CheckIn.Status.values)}, "choice")
    lng = _number(payload, "lng", -180, 180)
    lat = _number(payload, "lat", -90, 90)
    if (lng is None) != (lat is None):
        raise FieldworkError("lat" if lat is None else "lng", _("经纬度须同时提供"), "required")
    accuracy = _number(payload, "accuracy_m", 0, 100_000)
    note = parse_text(payload, "note", 200)
    local = timezone.localtime(at)
    rule = rule_for(grid)
    with transaction.atomic():
        if CheckIn.objects.select_for_update().filter(worker=person, day=local.date()).exists():
            raise FieldworkError("at", _("今天已报到"), "already_checked_in")
        checkin = CheckIn.objects.create(
            worker=person, grid=grid, day=local.date(), at=at, status=status, lng=lng,
            lat=lat, accuracy_m=accuracy, note=note, place=place_of(grid, rule, lng, lat),
            late=status == CheckIn.Status.ON_DUTY and is_late(local, rule))
        audit.record("fieldwork.check_in", actor=user, object_type="fieldwork.checkin",
                     object_id=checkin.pk, day=checkin.day.isoformat(), status=status,
                     place=checkin.place, late=checkin.late)
        enqueue("fieldwork.checked_in", {
            "checkin_id": checkin.pk, "worker_id": person.pk, "worker": person.name,
            "grid": grid.code, "day": checkin.day.isoformat(), "at": at.isoformat(),
            "status": status, "place": checkin.place, "late": checkin.late})
    return checkin


def checkin_dict(c: CheckIn) -> dict[str, Any]:
    return {"id": c.pk, "worker_id": c.worker_id, "grid": c.grid.code, "day": c.day,
            "at": c.at, "status": c.status, "place": c.place, "late": c.late, "lng": c.lng,
            "lat": c.lat, "accuracy_m": c.accuracy_m, "note": c.note}


def checkin_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return checkin_dict(CheckIn.objects.select_related("grid").get(pk=pk))


@register("checkin.create", "fieldwork.checkin", answer=checkin_answer)
def apply_checkin(user: AbstractBaseUser, env: Envelope) -> int:
    return do_check_in(user, env.payload).pk
