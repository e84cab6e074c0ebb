"""`register.update`: a worker's edit of their grid's register, made offline against the copy
the phone held (the offline data's `v`, sent back as the envelope's base_version).

The registry writes it (registry.actions.do_update: its scope check, validation, history,
outbox). Here only the question sync adds: was the phone's copy still current? If the
record changed on the server since, the edit is refused as a conflict carrying the server's
copy as the worker may see it (masked, with its new version); the phone shows both and the
worker chooses — never a silent overwrite."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.core.schema import MAX_ID
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.fieldwork.register_rows import ROWS, register_row, version_of
from wangge.registry import access as registry_access
from wangge.registry.actions import do_update
from wangge.registry.models import RegistryChange
from wangge.registry.validation import RegistryError

#: what a phone may change per kind: the everyday corrections, not identity (an ID number
#: is changed at the desk, with the document in hand)
EDITABLE: dict[str, frozenset[str]] = {
    "resident": frozenset({"name", "phone", "ethnicity", "residence_type", "relation",
                           "moved_in", "moved_out"}),
    "house": frozenset({"area", "use"}),
    "building": frozenset({"name", "address", "floors", "use", "lng", "lat"}),
}


def register_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    """The record as the phone should now hold it (its new version). `pk` is the registry's
    history row of the edit, which names the record."""
    change = RegistryChange.objects.get(pk=pk)
    row = register_row(user, change.object_type, change.object_id) or {"i": change.object_id}
    return {"kind": change.object_type, **row}


def _check(payload: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
    kind = payload.get("kind")
    if kind == "household":
        raise FieldworkError("kind", "a household is changed through its residents",
                             "not_editable")
    if kind not in EDITABLE:
        raise FieldworkError("kind", f"must be one of {', '.join(EDITABLE)}")
    pk = payload.get("id")
    if not isinstance(pk, int) or isinstance(pk, bool) or not 1 <= pk <= MAX_ID:
        raise FieldworkError("id", "must be a record id")
    changes = payload.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise FieldworkError("changes", "at least one field to change")
    for name in changes:
        if name not in EDITABLE[kind]:
            raise FieldworkError(f"changes.{name}", "not editable from the field app",
                                 "not_editable")
        value = changes[name]
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise FieldworkError(f"changes.{name}", "must be text or a number", "type")
    return kind, pk, changes


@register("register.update", "fieldwork.register_update", answer=register_answer)
def apply_register_update(user: AbstractBaseUser, env: Envelope) -> int:
    kind, pk, changes = _check(env.payload)
    model = ROWS[kind][0]
    obj = registry_access.access_record(user, model, pk)  # 404 outside the user's reach
    if not env.base_version:
        raise FieldworkError("base_version", "an edit names the version it was made against",
                             "required")
    if env.base_version != version_of(obj):
        raise Conflict("the record changed on the server since this copy was taken",
                       current={"kind": kind, **(register_row(user, kind, pk) or {})})
    before = RegistryChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        do_update(obj, changes, user, source="app")
    except RegistryError as e:
        field, msg = next(iter(e.errors.items()))
        raise FieldworkError(f"changes.{field}", msg) from None
    # the history row do_update wrote (inside this transaction): the answer's handle; none
    # means nothing differed, refused so the phone does not think it changed something
    change = RegistryChange.objects.filter(
        pk__gt=before, object_type=kind, object_id=pk,
        action=RegistryChange.Action.UPDATE).order_by("pk").values_list("pk", flat=True).first()
    if change is None:
        raise FieldworkError("changes", "nothing differs from the record", "unchanged")
    return change
