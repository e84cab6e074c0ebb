"""`case.report`: a case reported from the field app, offline first (上报事件).

It goes through the case loop's own intake (cases.actions.intake.report_or_replay), so a
case from the phone is the same as one from the console: register number, duplicate
search, photo checks, timeline, outbox. The sync engine owns the client key (object type
"case", the same the REST report uses), so no key is passed to intake. Photos are this
user's uploads, named by hash (fieldwork.actions.uploads)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from wangge.cases.actions.intake import report_or_replay
from wangge.cases.errors import CaseError
from wangge.cases.models import Case
from wangge.core.schema import MAX_ID
from wangge.fieldwork.actions.uploads import photos_by_hash
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.registry import access as registry_access
from wangge.registry.models import Building

FIELDS = ("category", "title", "description", "lng", "lat")


def case_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    """What the phone keeps of its report: enough to find it again (the follow code and
    register number), nothing of what happened to it since."""
    case = Case.objects.select_related("category").get(pk=pk)
    return {"id": case.pk, "register_no": case.register_no, "title": case.title,
            "category": case.category.code, "follow_code": case.follow_code}


def _number(payload: dict[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldworkError(name, "must be a number")
    return float(value)


@register("case.report", "case", answer=case_answer)
def apply_case_report(user: AbstractBaseUser, env: Envelope) -> int:
    payload = env.payload
    data: dict[str, Any] = {k: payload[k] for k in FIELDS if k in payload}
    data["lng"], data["lat"] = _number(payload, "lng"), _number(payload, "lat")
    if (data["lng"] is None) != (data["lat"] is None):
        raise FieldworkError("lat" if data["lat"] is None else "lng",
                             "give both lng and lat, or neither")
    if (building_id := payload.get("building_id")) is not None:
        if not isinstance(building_id, int) or isinstance(building_id, bool) or not (
                1 <= building_id <= MAX_ID):
            raise FieldworkError("building_id", "must be a building id")
        building = registry_access.visible(user, Building).filter(pk=building_id).first()
        if building is None:
            raise FieldworkError("building_id", "no such building in your grid", "not_found")
        if data["lng"] is None:  # no GPS fix: the building stands for the place
            data["lng"], data["lat"] = building.lng, building.lat
        if not data.get("description"):
            data["description"] = building.address
    photos = photos_by_hash(user, payload.get("photo_hashes") or [])
    try:
        done = report_or_replay(data, user, channel=Case.Channel.GRID_WORKER, photos=photos)
    except CaseError as e:
        if e.field == "channel":
            raise PermissionDenied(str(e)) from None
        field = "photo_hashes" if e.field == "photos" else e.field
        raise FieldworkError(field, str(e), e.code) from None
    return done.case.pk
