"""Patrols (巡查): start, track points, inspection checks, stop — the four envelopes the
field app sends while the worker walks (REST mirrors in api_patrols go through the same
engine). Points are thinned and appended to the patrol's encoded track (fieldwork.track);
each batch records the grid's buildings within reach of the new stretch (BuildingPass,
once per building and patrol), which drives the rota. A problem found on the inspection
list becomes a case in one step (cases.actions.intake), category from the item, location
given or the last track point, photos from the worker's uploads."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import shapely
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from wangge.cases.actions.intake import report_or_replay
from wangge.cases.errors import CaseError
from wangge.cases.models import Case, InspectionItem
from wangge.core import audit
from wangge.core.outbox import enqueue
from wangge.core.schema import MAX_ID
from wangge.fieldwork import access, track
from wangge.fieldwork.actions.sync import resolve_key
from wangge.fieldwork.actions.uploads import photos_by_hash
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import (
    BuildingPass,
    InspectionCheck,
    Patrol,
    PatrolArea,
    PlanItem,
)
from wangge.registry.models import Building

#: a building counts as passed when the track comes this close (metres)
PASS_RADIUS_M = 30.0
#: at most this many points in one envelope (a phone sends every minute or so)
MAX_POINTS = 20_000


def is_id(v: Any) -> bool:
    """A primary key a database column holds (bool is an int in Python: not an id)."""
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID


def _when(p: dict[str, Any], name: str) -> dt.datetime:
    raw = p.get(name)
    try:
        when = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        when = None
    if when is None or when.tzinfo is None or not 2000 <= when.year <= 2100:
        raise FieldworkError(name, "an ISO 8601 time with its offset is required", "required")
    return when


def _own_patrol(user: AbstractBaseUser, p: dict[str, Any]) -> Patrol:
    """The patrol named by `patrol_key` (the client key of an earlier patrol.start, as the
    field app sends it) or `patrol_id` (the REST mirrors), if it is the user's."""
    key, patrol_id = p.get("patrol_key"), p.get("patrol_id")
    if is_id(patrol_id):
        found = access.visible_patrols(user).filter(pk=patrol_id).exists()
        if not found:
            raise Http404("no such patrol")
    elif isinstance(key, str) and key:
        patrol_id = resolve_key(user, key, "fieldwork.patrol", "patrol_key")
    else:
        raise FieldworkError("patrol_key", "the client key of the patrol.start", "required")
    patrol = Patrol.objects.select_for_update().select_related("worker", "grid").get(pk=patrol_id)
    if patrol.worker.user_id != user.pk:
        raise PermissionDenied("only the patrol's own worker records it")
    return patrol


def _open_patrol(user: AbstractBaseUser, p: dict[str, Any]) -> Patrol:
    patrol = _own_patrol(user, p)
    if patrol.ended_at is not None:
        raise FieldworkError("patrol_id" if "patrol_id" in p else "patrol_key",
                             "this patrol has been stopped", "patrol_stopped")
    return patrol


def patrol_answer(user: AbstractBaseUser, patrol_id: int) -> dict[str, Any]:
    p = Patrol.objects.get(pk=patrol_id)
    return {"id": p.pk, "started_at": p.started_at.isoformat(),
            "ended_at": p.ended_at.isoformat() if p.ended_at else None,
            "points": p.points, "distance_m": p.distance_m, "duration_s": p.duration_s,
            "buildings_passed": p.passes.count(), "patrol_area": p.patrol_area_id}


# -- start ------------------------------------------------------------------------------


@register("patrol.start", "fieldwork.patrol", answer=patrol_answer)
def apply_start(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    started_at = _when(p, "started_at")
    worker, grid = access.person_of(user), access.worker_grid(user)
    if worker is None or grid is None:
        raise PermissionDenied("only a grid worker patrols")
    area_id = p.get("patrol_area_id")
    area = None
    if area_id is not None:
        if not is_id(area_id):
            raise FieldworkError("patrol_area_id", "must be an id", "invalid")
        area = PatrolArea.objects.filter(pk=area_id, grid=grid).first()
        if area is None:
            raise FieldworkError("patrol_area_id", "no such area in your grid", "not_found")
    else:
        # the area the day's plan names, so the rota counts this walk for it
        item = PlanItem.objects.filter(
            plan__worker=worker, plan__day=timezone.localdate(started_at),
            kind=PlanItem.Kind.PATROL, patrol_area__grid=grid).first()
        area = item.patrol_area if item else None
    patrol = Patrol.objects.create(worker=worker, grid=grid, patrol_area=area,
                                   started_at=started_at)
    audit.record("fieldwork.patrol_started", actor=user, object_type="fieldwork.patrol",
                 object_id=patrol.pk, area=area.pk if area else None)
    return patrol.pk


# -- points -----------------------------------------------------------------------------


def _parse_points(raw: Any) -> list[list[float]]:
    if not isinstance(raw, list) or not raw:
        raise FieldworkError("points", "a non-empty list of [epoch_ms, lng, lat, accuracy_m]",
                             "required")
    if len(raw) > MAX_POINTS:
        raise FieldworkError("points", f"at most {MAX_POINTS} points per envelope", "too_many")
    out = []
    for i, pt in enumerate(raw):
        ok = (isinstance(pt, list) and len(pt) in (3, 4)
              and all(isinstance(v, int | float) and not isinstance(v, bool)
                      and math.isfinite(v) for v in pt if v is not None)
              and None not in pt[:3])
        if not ok or not (-180 <= pt[1] <= 180 and -90 <= pt[2] <= 90) \
                or not (0 < pt[0] < 1e14) or (len(pt) == 4 and pt[3] is not None and pt[3] < 0):
            raise FieldworkError(f"points.{i}", "[epoch_ms, lng, lat, accuracy_m] expected",
                                 "invalid")
        out.append(pt)
    return out


def _to_metres(lng: np.ndarray, lat: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """A local equirectangular projection: plenty for 30 m within one basic grid."""
    k = math.pi / 180 * track.EARTH_RADIUS_M
    return lng * k * math.cos(math.radians(lat0)), lat * k


def buildings_near(grid_id: int, pts: list[tuple[int, float, float]]
                   ) -> dict[int, int]:
    """building id → epoch ms of the nearest track point, for the grid's buildings within
    PASS_RADIUS_M of the line through `pts`."""
    rows = list(Building.objects.filter(grid_id=grid_id).values_list("pk", "lng", "lat"))
    if not rows or not pts:
        return {}
    lat0 = pts[0][2]
    bx, by = _to_metres(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), lat0)
    tx, ty = _to_metres(np.array([p[1] for p in pts]), np.array([p[2] for p in pts]), lat0)
    line = (shapely.linestrings(np.column_stack([tx, ty])) if len(pts) > 1
            else shapely.points(tx[0], ty[0]))
    tree = shapely.STRtree(shapely.points(bx, by))
    hits = tree.query(line, predicate="dwithin", distance=PASS_RADIUS_M)
    out = {}
    for h in hits:
        nearest = int(np.argmin((tx - bx[h]) ** 2 + (ty - by[h]) ** 2))
        out[rows[h][0]] = pts[nearest][0]
    return out


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


@register("patrol.points", "fieldwork.patrol_points", answer=patrol_answer)
def apply_points(user: AbstractBaseUser, env: Envelope) -> int:
    patrol = _open_patrol(user, env.payload)
    raw = _parse_points(env.payload.get("points"))
    old = track.decode(patrol.track)
    times = track.decode_times(patrol.track_times)
    start_ms = _ms(patrol.started_at)
    last = old[-1] if old else None
    last_ms = start_ms + times[-1] * 1000 if times else None
    kept = track.thin(raw, last, last_ms)
    if kept:
        new_pts = [(lng, lat) for _ms_, lng, lat in kept]
        offsets = [round((ms - start_ms) / 1000) for ms, _lng, _lat in kept]
        patrol.track += track.encode(new_pts, last)
        patrol.track_times += track.encode_times(offsets, times[-1] if times else None)
        patrol.points += len(kept)
        patrol.distance_m += round(track.path_length_m(([last] if last else []) + new_pts))
        patrol.duration_s = max(patrol.duration_s, max(offsets[-1], 0))
        patrol.save(update_fields=["track", "track_times", "points", "distance_m",
                                   "duration_s"])
        stretch = ([(last_ms or kept[0][0], *last)] if last else []) + kept
        _record_passes(patrol, buildings_near(patrol.grid_id, stretch))
    return patrol.pk


def _record_passes(patrol: Patrol, near: dict[int, int]) -> None:
    already = set(patrol.passes.filter(building_id__in=near).values_list("building_id",
                                                                          flat=True))
    BuildingPass.objects.bulk_create(
        [BuildingPass(patrol=patrol, building_id=b, at=_from_ms(ms))
         for b, ms in near.items() if b not in already], ignore_conflicts=True)


# -- inspection checks ------------------------------------------------------------------


def check_answer(user: AbstractBaseUser, check_id: int) -> dict[str, Any]:
    c = InspectionCheck.objects.select_related("case").get(pk=check_id)
    return {"id": c.pk, "patrol_id": c.patrol_id, "item_id": c.item_id, "result": c.result,
            "case": c.case.register_no if c.case else None}


def _location(patrol: Patrol, p: dict[str, Any]) -> tuple[float | None, float | None]:
    lng, lat = p.get("lng"), p.get("lat")
    if lng is not None or lat is not None:
        for name, v, lim in (("lng", lng, 180), ("lat", lat, 90)):
            if not isinstance(v, int | float) or isinstance(v, bool) or not -lim <= v <= lim:
                raise FieldworkError(name, "give both lng and lat, in degrees", "invalid")
        return float(lng), float(lat)
    pts = track.decode(patrol.track)
    return pts[-1] if pts else (None, None)


def _report_case(user: AbstractBaseUser, patrol: Patrol, item: InspectionItem,
                 p: dict[str, Any], note: str) -> Case:
    if item.category is None:
        raise FieldworkError("item_id", "this inspection item has no case category",
                             "no_category")
    lng, lat = _location(patrol, p)
    data = {"category": item.category.code, "title": f"{item.name}：{note}"[:100] if note
            else item.name[:100], "description": note, "lng": lng, "lat": lat}
    try:
        return report_or_replay(data, user, channel=Case.Channel.GRID_WORKER,
                                photos=photos_by_hash(user, p.get("photo_hashes") or [])).case
    except CaseError as e:
        field = {"category": "item_id", "title": "note", "photos": "photo_hashes",
                 "channel": "report_case"}.get(e.field, e.field)
        raise FieldworkError(field, str(e), e.code) from None


@register("patrol.check", "fieldwork.inspection_check", answer=check_answer)
def apply_check(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    patrol = _open_patrol(user, p)
    item_id, result = p.get("item_id"), p.get("result")
    if not is_id(item_id):
        raise FieldworkError("item_id", "an inspection item id", "required")
    item = InspectionItem.objects.select_related("category").filter(pk=item_id).first()
    if item is None:
        raise FieldworkError("item_id", "no such inspection item", "not_found")
    if result not in InspectionCheck.Result.values:
        raise FieldworkError("result", "ok or problem", "invalid")
    note = p.get("note") or ""
    if not isinstance(note, str) or len(note) > 200:
        raise FieldworkError("note", "at most 200 characters", "too_long")
    if patrol.checks.filter(item=item).exists():
        raise FieldworkError("item_id", "already checked on this patrol", "already_checked")
    case = None
    if p.get("report_case") is True:
        if result != InspectionCheck.Result.PROBLEM:
            raise FieldworkError("report_case", "only a problem becomes a case", "invalid")
        case = _report_case(user, patrol, item, p, note.strip())
    at = _when(p, "at") if p.get("at") is not None else (env.device_time or timezone.now())
    check = InspectionCheck.objects.create(patrol=patrol, item=item, result=result, note=note,
                                           case=case, at=at)
    audit.record("fieldwork.inspection_checked", actor=user,
                 object_type="fieldwork.inspectioncheck", object_id=check.pk,
                 patrol=patrol.pk, item=item.pk, result=result,
                 case=case.register_no if case else None)
    return check.pk


# -- stop -------------------------------------------------------------------------------


@register("patrol.stop", "fieldwork.patrol_stop", answer=patrol_answer)
def apply_stop(user: AbstractBaseUser, env: Envelope) -> int:
    patrol = _open_patrol(user, env.payload)
    ended_at = _when(env.payload, "ended_at")
    if ended_at < patrol.started_at:
        raise FieldworkError("ended_at", "before the patrol started", "invalid")
    patrol.ended_at = ended_at
    patrol.duration_s = int((ended_at - patrol.started_at).total_seconds())
    patrol.save(update_fields=["ended_at", "duration_s"])
    passed = patrol.passes.count()
    audit.record("fieldwork.patrol_stopped", actor=user, object_type="fieldwork.patrol",
                 object_id=patrol.pk, distance_m=patrol.distance_m, points=patrol.points,
                 buildings=passed)
    enqueue("fieldwork.patrol_stopped", {
        "patrol_id": patrol.pk, "worker_id": patrol.worker_id, "grid": patrol.grid.code,
        "started_at": patrol.started_at.isoformat(), "ended_at": ended_at.isoformat(),
        "distance_m": patrol.distance_m, "points": patrol.points, "buildings_passed": passed})
    return patrol.pk
