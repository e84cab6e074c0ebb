"""Every write to the registry: scope-checked, one transaction, a history row with masked
before → after, an outbox row."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from wangge.core import audit, crypto, idempotency, outbox
from wangge.core.bulk import allocate_ids, insert_rows
from wangge.registry import access
from wangge.registry.identity import parse_id_number
from wangge.registry.models import (
    Building,
    GridOwned,
    House,
    Household,
    KeyPlace,
    Organisation,
    RegistryChange,
    Resident,
    SpecialGroup,
    UnmaskLog,
)
from wangge.registry.resolvers import DbResolver
from wangge.registry.validation import (
    RegistryError,
    Resolver,
    clean_building,
    clean_house,
    clean_key_place,
    clean_organisation,
    clean_resident,
    seal_resident,
)
from wangge.territory.models import Grid

CLEANERS = {"building": clean_building, "house": clean_house, "resident": clean_resident,
            "key_place": clean_key_place, "organisation": clean_organisation}
KIND_OF = {Building: "building", House: "house", Household: "household",
           Resident: "resident", KeyPlace: "key_place", Organisation: "organisation"}
#: never written to the history, even masked: the sealed and hashed forms
_SECRET_SUFFIXES = ("_enc", "_hash")


def snapshot(obj: GridOwned) -> dict[str, Any]:
    """A record's fields as the history shows them: masked, JSON-safe."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        name = field.attname
        if name in ("id", "created_at", "updated_at") or name.endswith(_SECRET_SUFFIXES):
            continue
        value = getattr(obj, name)
        if isinstance(value, dt.date | Decimal):
            value = str(value)
        out[name] = value
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _check_edit(actor: AbstractBaseUser, grid_id: int) -> Grid:
    grid = Grid.objects.get(pk=grid_id)
    if not access.can_edit(actor, grid):
        raise PermissionDenied("this grid is outside what you may edit")
    return grid


def _log(actor: AbstractBaseUser | None, obj: GridOwned, action: str,
         changes: dict[str, Any], source: str) -> RegistryChange:
    kind = KIND_OF[type(obj)]
    outbox.enqueue("registry.changed", {"kind": kind, "id": obj.pk, "action": action})
    return RegistryChange.objects.create(
        actor=actor if actor and actor.is_authenticated else None, object_type=kind,
        object_id=obj.pk, grid_id=obj.grid_id, action=action, changes=changes, source=source,
    )


@dataclass(frozen=True)
class Created:
    """What a create did: the record, and whether the client key replayed an earlier
    create (the API answers 200 with the first record instead of 201)."""

    obj: GridOwned
    replayed: bool


#: the natural keys the database holds unique, and the field a duplicate is named by
_NATURAL_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "resident": (("id_number_hash",), "id_number", "a person with this ID number is registered"),
    "building": (("code",), "code", "a building with this code exists"),
    "house": (("building_id", "number"), "number",
              "this building already has a house with that number"),
}
#: what a user who may not see the person already registered under an ID number is told:
#: the same whatever the reason, never where the person is registered
ID_NUMBER_REFUSED = "不能在此登记该证件号码，请联系中心"


def _natural_values(kind: str, obj: GridOwned) -> dict[str, Any]:
    fields = _NATURAL_KEYS[kind][0] if kind in _NATURAL_KEYS else ()
    return {f: getattr(obj, f) for f in fields}


def _duplicate_error(kind: str, values: dict[str, Any], actor: AbstractBaseUser,
                     exclude: int | None = None) -> RegistryError | None:
    """The error naming the field if a record with the same natural key exists."""
    if kind not in _NATURAL_KEYS:
        return None
    fields, field, message = _NATURAL_KEYS[kind]
    model = access.MODELS[kind]
    existing = model.objects.filter(**{f: values[f] for f in fields})
    if exclude is not None:
        existing = existing.exclude(pk=exclude)
    found = existing.values_list("pk", flat=True).first()
    if found is None:
        return None
    if kind == "resident" and not access.may_know_registered(actor, found):
        return RegistryError({field: ID_NUMBER_REFUSED})
    return RegistryError({field: message})


def _replayed(actor: AbstractBaseUser, client_key: str | None, kind: str) -> int | None:
    try:
        return idempotency.replayed(actor, client_key, kind)
    except idempotency.KeyRefused as e:
        raise RegistryError({e.field: str(e)}) from None


def create_or_replay(kind: str, data: dict[str, Any], actor: AbstractBaseUser, *,
                     client_key: str | None = None, resolver: Resolver | None = None,
                     source: str = "api") -> Created:
    """Validate and create a building, house, resident, key place or organisation. A replayed
    client key returns the record the first call made, also when the first call is still
    running in another request (the key is checked again inside the transaction, and a
    unique-constraint race is answered from the winner's key)."""
    model = access.MODELS[kind]
    if (earlier := _replayed(actor, client_key, kind)) is not None:
        return Created(model.objects.get(pk=earlier), True)
    values = CLEANERS[kind](data, resolver or DbResolver())
    _check_edit(actor, values["grid_id"])
    try:
        with transaction.atomic():
            if (earlier := _replayed(actor, client_key, kind)) is not None:
                return Created(model.objects.get(pk=earlier), True)
            if (error := _duplicate_error(kind, values, actor)) is not None:
                raise error
            obj = model.objects.create(**values)
            idempotency.remember(actor, client_key, kind, obj.pk)
            _log(actor, obj, RegistryChange.Action.CREATE, {"after": snapshot(obj)}, source)
    except (IntegrityError, RegistryError) as conflict:
        # A concurrent request committed first: the same key (a replay), or the same
        # natural key (a duplicate, named by its field). The key is read again after the
        # conflict: on PostgreSQL the first request's record may have become visible to the
        # duplicate check after the key check above missed its key.
        if (earlier := _replayed(actor, client_key, kind)) is not None:
            return Created(model.objects.get(pk=earlier), True)
        if isinstance(conflict, RegistryError):
            raise
        if (error := _duplicate_error(kind, values, actor)) is not None:
            raise error from None
        raise
    return Created(obj, False)


def do_create(kind: str, data: dict[str, Any], actor: AbstractBaseUser, *,
              client_key: str | None = None, resolver: Resolver | None = None,
              source: str = "api") -> GridOwned:
    """create_or_replay, for callers that need only the record."""
    return create_or_replay(kind, data, actor, client_key=client_key, resolver=resolver,
                            source=source).obj


def editable_input(obj: GridOwned) -> dict[str, Any]:
    """The record as cleaner input, so a partial update re-validates the whole record.
    (Decrypts internally to re-check the ID number; nothing leaves this function.)"""
    if isinstance(obj, Building):
        return {k: getattr(obj, k) for k in ("code", "name", "address", "lng", "lat", "floors",
                                              "use")}
    if isinstance(obj, House):
        return {"building": obj.building.code, "number": obj.number, "area": obj.area,
                "use": obj.use}
    if isinstance(obj, KeyPlace | Organisation):
        fields = ["name", "kind", "address", "lng", "lat"]
        if isinstance(obj, Organisation):
            fields.append("credit_code")
        return {k: getattr(obj, k) for k in fields}
    if isinstance(obj, Resident):
        ring = crypto.keyring()
        return {
            "name": obj.name, "ethnicity": obj.ethnicity, "residence_type": obj.residence_type,
            "relation": obj.relation, "moved_in": obj.moved_in, "moved_out": obj.moved_out,
            "id_number": crypto.open_sealed(obj.id_number_enc, ring),
            "phone": crypto.open_sealed(obj.phone_enc, ring) if obj.phone_enc else "",
            "building": obj.house.building.code, "house": obj.house.number,
            "household": obj.household.number if obj.household_id else "",
        }
    raise TypeError(type(obj))


def do_update(obj: GridOwned, changes: dict[str, Any], actor: AbstractBaseUser, *,
              resolver: Resolver | None = None, source: str = "api") -> GridOwned:
    kind = KIND_OF[type(obj)]
    _check_edit(actor, obj.grid_id)
    values = CLEANERS[kind]({**editable_input(obj), **changes}, resolver or DbResolver())
    _check_edit(actor, values["grid_id"])  # moving a record needs both ends in scope
    with transaction.atomic():
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        if kind == "resident" and values["id_number_hash"] == obj.id_number_hash:
            # unchanged number: keep the stored ciphertext (no pointless re-encryption)
            for f in ("id_number_enc", "id_number_hash", "id_number_masked"):
                values.pop(f)
        if kind == "resident" and values.get("phone_hash", None) == obj.phone_hash:
            for f in ("phone_enc", "phone_hash", "phone_masked"):
                values.pop(f)
        if (error := _duplicate_error(kind, {**_natural_values(kind, obj), **values}, actor,
                                      exclude=obj.pk)) is not None:
            raise error
        before = snapshot(obj)
        for key, value in values.items():
            setattr(obj, key, value)
        try:
            with transaction.atomic():  # a savepoint: the check below still runs on PG
                obj.save()
        except IntegrityError:
            # a concurrent write took the natural key since the check above
            error = _duplicate_error(kind, _natural_values(kind, obj), actor, exclude=obj.pk)
            if error is not None:
                raise error from None
            raise
        diff = _diff(before, snapshot(obj))
        if diff:
            _log(actor, obj, RegistryChange.Action.UPDATE, diff, source)
    return obj


def do_delete(obj: GridOwned, actor: AbstractBaseUser, *, source: str = "api") -> None:
    _check_edit(actor, obj.grid_id)
    with transaction.atomic():
        _log(actor, obj, RegistryChange.Action.DELETE, {"before": snapshot(obj)}, source)
        obj.delete()


def _group_hash(resident_id: int, kind: str, ring: crypto.Keyring) -> str:
    # Keyed per person: equal kinds don't share a hash, so the column can't be counted
    # to guess which kind a row is (ten kinds would make that easy).
    return crypto.blind_index(f"special:{resident_id}:{kind}", ring)


def do_add_special_group(resident: Resident, kind: str, actor: AbstractBaseUser, *,
                         since: dt.date | None = None) -> SpecialGroup:
    if kind not in SpecialGroup.Kind.values:
        raise RegistryError({"kind": f"must be one of {', '.join(SpecialGroup.Kind.values)}"})
    if not access.can_see_special_groups(actor, resident.grid):
        raise PermissionDenied("special groups are outside your role")
    ring = crypto.keyring()
    with transaction.atomic():
        group, created = SpecialGroup.objects.get_or_create(
            resident=resident, kind_hash=_group_hash(resident.pk, kind, ring),
            defaults={"kind_enc": crypto.seal(kind, ring), "grid_id": resident.grid_id,
                      "since": since},
        )
        if created:
            # the history says a membership was added, never which kind
            _log(actor, resident, RegistryChange.Action.UPDATE,
                 {"special_group": [None, "added"]}, "api")
    return group


def special_group_kinds(groups: list[SpecialGroup]) -> dict[int, list[str]]:
    """resident id → kinds. Call only with groups from access.visible_special_groups."""
    ring = crypto.keyring()
    out: dict[int, list[str]] = {}
    for g in groups:
        out.setdefault(g.resident_id, []).append(crypto.open_sealed(g.kind_enc, ring))
    return out


def do_unmask(resident: Resident, actor: AbstractBaseUser, *, purpose: str,
              fields: tuple[str, ...] = ("id_number", "phone")) -> dict[str, str]:
    """The plain ID number / phone, logged with the stated purpose."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise RegistryError({"purpose": "state why you need the unmasked data"})
    if not access.can_unmask(actor, resident):
        raise PermissionDenied("unmasking needs the permission and the person in your scope")
    ring = crypto.keyring()
    out = {}
    if "id_number" in fields:
        out["id_number"] = crypto.open_sealed(resident.id_number_enc, ring)
    if "phone" in fields:
        out["phone"] = crypto.open_sealed(resident.phone_enc, ring) if resident.phone_enc else ""
    UnmaskLog.objects.create(actor=actor, resident=resident, fields=",".join(sorted(out)),
                             purpose=purpose[:200])
    return out


def check_unmask(actor: AbstractBaseUser, purpose: str) -> str:
    """The stated purpose, cleaned; raises unless the actor may unmask at all."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise RegistryError({"purpose": "state why you need the unmasked data"})
    if not actor.has_perm(access.UNMASK_PERMISSION):
        raise PermissionDenied("unmasking needs the permission")
    return purpose


def do_unmask_many(residents: list[Resident], actor: AbstractBaseUser, *,
                   purpose: str) -> dict[int, dict[str, str]]:
    """Unmask a batch (an unmasked export): the same rules as do_unmask, one log row each."""
    purpose = check_unmask(actor, purpose)
    if any(not access.can_unmask(actor, r) for r in residents):
        raise PermissionDenied("unmasking needs the permission and the people in your scope")
    ring = crypto.keyring()
    out = {
        r.pk: {"id_number": crypto.open_sealed(r.id_number_enc, ring),
               "phone": crypto.open_sealed(r.phone_enc, ring) if r.phone_enc else ""}
        for r in residents
    }
    UnmaskLog.objects.bulk_create([
        UnmaskLog(actor=actor, resident=r, fields="id_number,phone", purpose=purpose[:200])
        for r in residents
    ])
    return out


def do_seed_register(register: Any, *, batch: int = 5000,
                     progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Bulk-load a generated register (the demo's; see demo/people.py): buildings, houses,
    households, residents (sealed, hashed, masked) and special groups, in one transaction,
    with one audit entry instead of a history row per record."""
    ring = crypto.keyring()
    grids = dict(Grid.objects.filter(level=4).values_list("code", "id"))
    with transaction.atomic():
        buildings = [Building(code=b.key, name=b.name, address=b.address, lng=b.lng, lat=b.lat,
                              floors=b.floors, use=b.use, grid_id=grids[b.grid_code],
                              qr_token=secrets.token_urlsafe(16))
                     for b in register.buildings]
        Building.objects.bulk_create(buildings, batch_size=batch)
        b_by_key = {b.code: b for b in buildings}
        houses = {h.key: House(building_id=b_by_key[h.building_key].pk, number=h.number,
                               area=Decimal(str(h.area)), use=h.use,
                               grid_id=b_by_key[h.building_key].grid_id)
                  for h in register.houses}
        House.objects.bulk_create(list(houses.values()), batch_size=batch)
        households = {hh.key: Household(house_id=houses[hh.house_key].pk, number=hh.number,
                                        grid_id=houses[hh.house_key].grid_id)
                      for hh in register.households}
        Household.objects.bulk_create(list(households.values()), batch_size=batch)
        residents: dict[str, tuple[int, int]] = {}  # key → (id, grid id)
        chunk: list[tuple[str, dict[str, Any]]] = []

        def flush() -> None:
            ids = _insert_new(Resident, [row for _key, row in chunk])
            for (key, row), pk in zip(chunk, ids, strict=True):
                residents[key] = (pk, row["grid_id"])
            if progress:
                progress(len(chunk))
            chunk.clear()

        for spec in register.residents:
            info = parse_id_number(spec.id_number)
            house = houses[spec.house_key]
            row = {"name": spec.name, "gender": info.gender, "birth_date": info.birth_date,
                   "ethnicity": spec.ethnicity, "residence_type": spec.residence_type,
                   "relation": spec.relation, "moved_in": spec.moved_in, "moved_out": None,
                   "house_id": house.pk, "household_id": households[spec.household_key].pk,
                   "grid_id": house.grid_id,
                   **seal_resident({"id_number": info.number, "phone": spec.phone}, ring)}
            chunk.append((spec.key, row))
            if len(chunk) == batch:
                flush()
        flush()
        groups = [SpecialGroup(resident_id=residents[g.resident_key][0],
                               grid_id=residents[g.resident_key][1],
                               kind_enc=crypto.seal(g.kind, ring),
                               kind_hash=_group_hash(residents[g.resident_key][0], g.kind, ring))
                  for g in register.special_groups]
        SpecialGroup.objects.bulk_create(groups, batch_size=batch)
        counts = {"buildings": len(buildings), "houses": len(houses),
                  "households": len(households), "residents": len(residents),
                  "special_groups": len(groups)}
        audit.record("registry.seed", actor=None, object_type="registry", **counts)
        outbox.enqueue("registry.seeded", counts)
    return counts


# -- bulk import: the writing half of importer.import_file -------------------------------

IMPORT_BATCH = 2000


def do_import_rows(kind: str, rows: list[dict[str, Any]],
                   actor: AbstractBaseUser | None) -> dict[str, int]:
    """Write cleaned import rows (importer.py validated them and checked scope): create the
    new, update the changed, skip the unchanged; a history row each; one outbox row."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    good = list(enumerate(rows))
    with transaction.atomic():
        writer = {"residents": _write_residents, "buildings": _write_buildings,
                  "houses": _write_houses}[kind]
        writer(good, counts, actor)
        if counts["created"] or counts["updated"]:
            outbox.enqueue("registry.imported", {"kind": kind, **counts},
                           key=f"registry.import.{uuid.uuid4().hex}")
    return counts


def _insert_history(kind: str, refs: list[tuple[int, int]], action: str,
                    changes: list[dict[str, Any]], actor: AbstractBaseUser | None) -> None:
    """History rows for (object id, grid id) pairs, inserted in bulk."""
    now = timezone.now()
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    insert_rows(
        RegistryChange,
        ["at", "actor_id", "object_type", "object_id", "grid_id", "action", "changes", "source"],
        ((now, actor_id, kind, oid, gid, action, json.dumps(c, ensure_ascii=False), "import")
         for (oid, gid), c in zip(refs, changes, strict=True)),
    )


def _insert_new(model: type[GridOwned], rows: list[dict[str, Any]]) -> list[int]:
    """Insert cleaned rows below the ORM (core.bulk); fields the cleaners don't set get
    their model defaults (a fresh QR token each, timestamps now). Returns the new ids."""
    if not rows:
        return []
    ids = allocate_ids(model, len(rows))
    now = timezone.now()
    given = list(rows[0])
    rest = [f for f in model._meta.concrete_fields
            if f.attname not in given and not f.primary_key]
    fields = ["id", *given, *(f.attname for f in rest)]

    def extra(f: Any) -> Any:
        return now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) \
            else f.get_default()

    insert_rows(model, fields, (
        (pk, *(row[k] for k in given), *(extra(f) for f in rest))
        for pk, row in zip(ids, rows, strict=True)
    ))
    return ids


def _visible_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, dt.date | Decimal) else v) for k, v in values.items()
            if not k.endswith(("_enc", "_hash"))}


def held_outside(kind: str, keys: list[Any], editable: set[int]) -> dict[Any, str]:
    """Natural keys of an import that name existing records in grids the importer may not
    edit → the reason to refuse the row. An import updates the record it names, so such a
    row would take over someone else's record; for a person the answer says neither that
    nor where (ID_NUMBER_REFUSED), as for a single create."""
    model, column, reason = {
        "residents": (Resident, "id_number_hash", ID_NUMBER_REFUSED),
        "buildings": (Building, "code", "a building with this code exists"),
    }.get(kind, (None, "", ""))
    if model is None:
        return {}  # a house's grid is its building's: the grid check already covers it
    out: dict[Any, str] = {}
    for i in range(0, len(keys), IMPORT_BATCH):
        found = model.objects.filter(**{f"{column}__in": keys[i:i + IMPORT_BATCH]}).exclude(
            grid_id__in=editable).values_list(column, flat=True)
        out.update(dict.fromkeys(found, reason))
    return out


def natural_key(kind: str, values: dict[str, Any]) -> tuple[Any, str]:
    if kind == "residents":
        return values["id_number_hash"], "id_number"
    if kind == "buildings":
        return values["code"], "code"
    return (values["building_id"], values["number"]), "number"


def _apply(kind: str, model: type, good: list[tuple[int, dict[str, Any]]],
           existing: dict[Any, Any], counts: dict[str, int],
           actor: AbstractBaseUser | None) -> None:
    """Create the new rows, update the changed ones, skip the unchanged."""
    new_rows: list[dict[str, Any]] = []
    to_update, diffs = [], []
    fields: set[str] = set()
    for _n, values in good:
        current = existing.get(natural_key(kind, values)[0])
        if current is None:
            new_rows.append(values)
            continue
        # Sealed values differ on every sealing: compare through the hash beside them.
        changed = {k: v for k, v in values.items()
                   if not k.endswith("_enc") and getattr(current, k) != v}
        if not changed:
            counts["unchanged"] += 1
            continue
        diff = {k: [_visible_values({k: getattr(current, k)}).get(k),
                    _visible_values({k: v}).get(k)]
                for k, v in changed.items() if not k.endswith("_hash")}
        for k, v in changed.items():
            setattr(current, k, v)
            fields.add(k)
            if k.endswith("_hash"):
                enc = k.removesuffix("_hash") + "_enc"
                setattr(current, enc, values[enc])
                fields.add(enc)
        to_update.append(current)
        diffs.append(diff)
    ids = _insert_new(model, new_rows)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=IMPORT_BATCH)
    single = kind.rstrip("s")
    _insert_history(single, [(i, v["grid_id"]) for i, v in zip(ids, new_rows, strict=True)],
                    "create", [{"after": _visible_values(v)} for v in new_rows], actor)
    _insert_history(single, [(o.pk, o.grid_id) for o in to_update], "update", diffs, actor)
    counts["created"] += len(new_rows)
    counts["updated"] += len(to_update)


def _write_residents(good: list[tuple[int, dict[str, Any]]], counts: dict[str, int],
                     actor: AbstractBaseUser | None) -> None:
    new: dict[str, Household] = {}
    for _n, v in good:
        hh = v.pop("_household", None)
        if hh is not None:
            if hh.number not in new:  # the first row naming a new household places it
                hh.house_id, hh.grid_id = v["house_id"], v["grid_id"]
                new[hh.number] = hh
            v["_pending"] = hh
    new_ids = _insert_new(Household, [{"number": hh.number, "house_id": hh.house_id,
                                       "grid_id": hh.grid_id} for hh in new.values()])
    for hh, pk in zip(new.values(), new_ids, strict=True):
        hh.pk = pk
    for _n, v in good:
        if (hh := v.pop("_pending", None)) is not None:
            v["household_id"] = hh.pk
    existing = {}
    hashes = [v["id_number_hash"] for _n, v in good]
    for i in range(0, len(hashes), IMPORT_BATCH):
        chunk = hashes[i:i + IMPORT_BATCH]
        for r in Resident.objects.filter(id_number_hash__in=chunk).defer(
                "id_number_enc", "phone_enc"):
            existing[r.id_number_hash] = r
    _apply("residents", Resident, good, existing, counts, actor)


def _write_buildings(good: list[tuple[int, dict[str, Any]]], counts: dict[str, int],
                     actor: AbstractBaseUser | None) -> None:
    existing = Building.objects.in_bulk([v["code"] for _n, v in good], field_name="code")
    _apply("buildings", Building, good, existing, counts, actor)


def _write_houses(good: list[tuple[int, dict[str, Any]]], counts: dict[str, int],
                  actor: AbstractBaseUser | None) -> None:
    existing = {(h.building_id, h.number): h
                for h in House.objects.filter(building_id__in={v["building_id"]
                                                               for _n, v in good})}
    _apply("houses", House, good, existing, counts, actor)




def do_mark_visited(*, day: dt.date, household_ids: Sequence[int] = (),
                    resident_ids: Sequence[int] = ()) -> None:
    """A visit (fieldwork) moves "last visited" forward, never back. Not a register edit:
    `updated_at` stays, so a phone's copy of the record does not become outdated by it.
    Called inside the visit's transaction, which carries the audit entry."""
    late = Q(last_visited_on__isnull=True) | Q(last_visited_on__lt=day)
    if household_ids:
        Household.objects.filter(late, pk__in=list(household_ids)).update(last_visited_on=day)
    if resident_ids:
        Resident.objects.filter(late, pk__in=list(resident_ids)).update(last_visited_on=day)
