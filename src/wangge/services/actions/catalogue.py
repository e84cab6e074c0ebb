"""The service catalogue's writes: validating items in the exchange format, importing a
whole catalogue, drafts, publishing, withdrawing.

The exchange format (JSON and XLSX, services.exchange) is one dict per item with the keys of
`FIELDS`; `version_row(version)` gives it back from a version, so import → export → import is
the identity and "unchanged" is a plain dict comparison.

Versions: a published `ItemVersion` is never changed again. Editing makes one draft per item
(from the current version); publishing it supersedes the previous published version and
copies the searched / filtered fields onto the `ServiceItem`. An application points at the
version it was made under, so it keeps reading the materials the applicant was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.org.models import Department
from wangge.services import access, search
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import (
    ItemLevel,
    ItemType,
    ItemVersion,
    LifeEvent,
    MaterialForm,
    ServiceItem,
)

Actor = AbstractBaseUser | AnonymousUser | None

#: the exchange format's keys, in the order exports write them
FIELDS: tuple[str, ...] = (
    "code", "name", "aliases", "type", "department", "level", "legal_basis", "conditions",
    "materials", "steps", "legal_days", "promised_days", "fee", "place", "hours", "phone",
    "in_person_times", "online_prereview", "prereview_days", "proxy_eligible", "events", "faq",
)
MATERIAL_FIELDS: tuple[str, ...] = ("key", "name", "form", "count", "required", "condition",
                                    "note")
#: what an item may leave out (and gets): everything else is required
DEFAULTS: dict[str, Any] = {
    "aliases": [], "legal_basis": "", "conditions": "", "materials": [], "steps": [],
    "fee": "不收费", "place": "", "hours": "", "phone": "", "in_person_times": 1,
    "online_prereview": False, "prereview_days": 1, "proxy_eligible": False, "events": [],
    "faq": [], "level": ItemLevel.CITY.value,
}
MATERIAL_DEFAULTS: dict[str, Any] = {"form": MaterialForm.COPY.value, "count": 1,
                                     "required": True, "condition": "", "note": ""}

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
KEY_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: what separates aliases in one spreadsheet cell, so an alias may not hold it
ALIAS_SEPARATORS = re.compile(r"[、，,；;]")
#: longest text per field (characters), within the model's columns
TEXT_LIMITS: dict[str, int] = {"name": 200, "legal_basis": 4000, "conditions": 4000,
                               "fee": 200, "place": 200, "hours": 200, "phone": 40}
MAX_LIST = {"aliases": 30, "materials": 60, "steps": 40, "faq": 40}
MAX_DAYS = 365
#: fields copied from the published version onto the item (search, filters, lists)
ITEM_FIELDS = ("name", "type", "level", "proxy_eligible", "online_prereview")
#: ItemVersion fields that hold the guide (the exchange format less the code)
VERSION_FIELDS = tuple(f for f in FIELDS if f != "code")


@dataclass(frozen=True)
class RowError:
    """One refusal: the row's index in the file (0-based) and the field, e.g.
    `items.3.materials.0.form`."""

    row: int
    field: str
    msg: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "errors": len(self.errors)}


# ---------------------------------------------------------------------------------------
# validation


def _text(value: Any, name: str, limit: int, *, required: bool = False,
          one_line: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ServiceError(name, "应为文本", "type")
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if CONTROL_RE.search(value):
        raise ServiceError(name, "含有不可见的控制字符", "control")
    if one_line and "\n" in value:
        raise ServiceError(name, "不能换行", "newline")
    if required and not value:
        raise ServiceError(name, "必填", "required")
    if len(value) > limit:
        raise ServiceError(name, f"不能超过{limit}个字符", "too_long")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ServiceError(name, "应为 true 或 false", "type")
    return value


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError(name, "应为整数", "type")
    if not lo <= value <= hi:
        raise ServiceError(name, f"应在{lo}到{hi}之间", "range")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ServiceError(name, "应为列表", "type")
    if len(value) > MAX_LIST.get(name, 30):
        raise ServiceError(name, f"不能超过{MAX_LIST.get(name, 30)}项", "too_many")
    return value


def _choice(value: Any, name: str, choices: type) -> str:
    pairs = choices.choices  # type: ignore[attr-defined]
    if value not in [code for code, _ in pairs]:
        allowed = "、".join(f"{code}（{label}）" for code, label in pairs)
        raise ServiceError(name, f"应为以下之一：{allowed}", "choice")
    return str(value)


def _material(raw: Any, name: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ServiceError(name, "应为对象", "type")
    unknown = sorted(set(raw) - set(MATERIAL_FIELDS))
    if unknown:
        raise ServiceError(f"{name}.{unknown[0]}", "未知字段", "unknown")
    m = {**MATERIAL_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    key = m.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ServiceError(f"{name}.key", "应为1至40位小写字母、数字、下划线或连字符", "key")
    return {
        "key": key,
        "name": _text(m.get("name"), f"{name}.name", 200, required=True),
        "form": _choice(m["form"], f"{name}.form", MaterialForm),
        "count": _int(m["count"], f"{name}.count", 1, 99),
        "required": _bool(m["required"], f"{name}.required"),
        "condition": _text(m["condition"], f"{name}.condition", 200),
        "note": _text(m["note"], f"{name}.note", 300),
    }


def clean_item(row: Mapping[str, Any], *,
               departments: Mapping[str, int] | None = None) -> dict[str, Any]:
    """One item in the exchange format, checked and normalised (texts stripped, defaults
    filled, keys in `FIELDS` order). Raises ServiceError naming the field (`materials.0.form`).
    `departments` (code → id) saves a query per row in a bulk import."""
    if not isinstance(row, Mapping):
        raise ServiceError("item", "应为对象", "type")
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise ServiceError(unknown[0], "未知字段", "unknown")
    for name in FIELDS:
        if name not in DEFAULTS and row.get(name) in (None, ""):
            raise ServiceError(name, "必填", "required")
    r = {**DEFAULTS, **{k: v for k, v in row.items() if v is not None}}
    out: dict[str, Any] = {}
    code = r["code"]
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        raise ServiceError("code", "应为1至40位字母、数字、点、下划线或连字符", "code")
    out["code"] = code.strip()
    out["name"] = _text(r["name"], "name", TEXT_LIMITS["name"], required=True, one_line=True)
    aliases: list[str] = []
    for i, a in enumerate(_list(r["aliases"], "aliases")):
        a = _text(a, f"aliases.{i}", 40, required=True, one_line=True)
        if ALIAS_SEPARATORS.search(a):
            raise ServiceError(f"aliases.{i}", "每个俗称单独一项，不能含「、」「，」「；」",
                               "separator")
        if a not in aliases:
            aliases.append(a)
    out["aliases"] = aliases
    out["type"] = _choice(r["type"], "type", ItemType)
    dept = r["department"]
    if not isinstance(dept, str):
        raise ServiceError("department", "应为部门代码", "type")
    known = (dept in departments) if departments is not None else (
        Department.objects.filter(code=dept).exists())
    if not known:
        raise ServiceError("department", f"没有代码为 {dept} 的部门", "unknown_department")
    out["department"] = dept
    out["level"] = _choice(r["level"], "level", ItemLevel)
    out["legal_basis"] = _text(r["legal_basis"], "legal_basis", TEXT_LIMITS["legal_basis"])
    out["conditions"] = _text(r["conditions"], "conditions", TEXT_LIMITS["conditions"])
    materials = [_material(m, f"materials.{i}")
                 for i, m in enumerate(_list(r["materials"], "materials"))]
    seen: set[str] = set()
    for i, m in enumerate(materials):
        if m["key"] in seen:
            raise ServiceError(f"materials.{i}.key", f"材料键 {m['key']} 重复", "duplicate")
        seen.add(m["key"])
    out["materials"] = materials
    out["steps"] = [_text(s, f"steps.{i}", 300, required=True, one_line=True)
                    for i, s in enumerate(_list(r["steps"], "steps"))]
    out["legal_days"] = _int(r["legal_days"], "legal_days", 0, MAX_DAYS)
    out["promised_days"] = _int(r["promised_days"], "promised_days", 0, MAX_DAYS)
    if out["promised_days"] > out["legal_days"]:
        raise ServiceError("promised_days", "承诺时限不能超过法定时限", "over_legal")
    for name in ("fee", "place", "hours", "phone"):
        out[name] = _text(r[name], name, TEXT_LIMITS[name])
    if not out["fee"]:
        out["fee"] = DEFAULTS["fee"]
    out["in_person_times"] = _int(r["in_person_times"], "in_person_times", 0, 1)
    out["online_prereview"] = _bool(r["online_prereview"], "online_prereview")
    out["prereview_days"] = _int(r["prereview_days"], "prereview_days", 1, 30)
    out["proxy_eligible"] = _bool(r["proxy_eligible"], "proxy_eligible")
    events: list[str] = []
    for i, e in enumerate(_list(r["events"], "events")):
        e = _choice(e, f"events.{i}", LifeEvent)
        if e not in events:
            events.append(e)
    out["events"] = events
    faq = []
    for i, qa in enumerate(_list(r["faq"], "faq")):
        if not isinstance(qa, dict):
            raise ServiceError(f"faq.{i}", "应为对象 {q, a}", "type")
        if set(qa) - {"q", "a"}:
            raise ServiceError(f"faq.{i}.{sorted(set(qa) - {'q', 'a'})[0]}", "未知字段",
                               "unknown")
        faq.append({"q": _text(qa.get("q"), f"faq.{i}.q", 200, required=True),
                    "a": _text(qa.get("a"), f"faq.{i}.a", 2000, required=True)})
    out["faq"] = faq
    return {k: out[k] for k in FIELDS}


def version_row(version: ItemVersion, *, code: str | None = None,
                department_code: str | None = None) -> dict[str, Any]:
    """A version in the exchange format (what export writes and import compares)."""
    return {
        "code": code or version.item.code,
        "name": version.name, "aliases": list(version.aliases), "type": version.type,
        "department": department_code or version.department.code, "level": version.level,
        "legal_basis": version.legal_basis, "conditions": version.conditions,
        "materials": [{**MATERIAL_DEFAULTS, **m} for m in version.materials],
        "steps": list(version.steps), "legal_days": version.legal_days,
        "promised_days": version.promised_days, "fee": version.fee, "place": version.place,
        "hours": version.hours, "phone": version.phone,
        "in_person_times": version.in_person_times,
        "online_prereview": version.online_prereview,
        "prereview_days": version.prereview_days, "proxy_eligible": version.proxy_eligible,
        "events": list(version.events), "faq": list(version.faq),
    }


def _version_values(clean: dict[str, Any], department_id: int) -> dict[str, Any]:
    """ItemVersion field values from a cleaned row."""
    values = {k: v for k, v in clean.items() if k not in ("code", "department")}
    values["department_id"] = department_id
    return values


def _copy_onto_item(item: ServiceItem, version: ItemVersion) -> None:
    for name in ITEM_FIELDS:
        setattr(item, name, getattr(version, name))
    item.department_id = version.department_id
    item.events_text = events_text(version.events)
    item.current = version
    item.updated_at = timezone.now()


def _copy_onto_items(items: list[ServiceItem], now: Any) -> None:
    """`_copy_onto_item` for many items in a few statements: the fields and `current` as
    subqueries on each item's published version, `events_text` by distinct value.
    (bulk_update's CASE per row and field cost 5 s of Python for 664 items.)"""
    published = ItemVersion.objects.filter(item=OuterRef("pk"),
                                           state=ItemVersion.State.PUBLISHED)
    by_events: dict[str, list[int]] = {}
    for item in items:
        by_events.setdefault(item.events_text, []).append(item.pk)
    ids = [item.pk for item in items]
    for chunk in range(0, len(ids), 500):
        ServiceItem.objects.filter(pk__in=ids[chunk:chunk + 500]).update(
            current=Subquery(published.values("pk")[:1]),
            department=Subquery(published.values("department")[:1]),
            updated_at=now,
            **{name: Subquery(published.values(name)[:1]) for name in ITEM_FIELDS})
    for text, pks in by_events.items():
        for chunk in range(0, len(pks), 500):
            ServiceItem.objects.filter(pk__in=pks[chunk:chunk + 500]).update(events_text=text)


def events_text(events: Iterable[str]) -> str:
    """"|elderly|disability|": one LIKE finds an event on both databases."""
    events = list(events)
    return f"|{'|'.join(events)}|" if events else ""


def _published_payload(item: ServiceItem, version: ItemVersion,
                       department_code: str) -> dict[str, Any]:
    return {"code": item.code, "name": version.name, "version": version.number,
            "department": department_code, "type": version.type, "level": version.level,
            "proxy_eligible": version.proxy_eligible,
            "online_prereview": version.online_prereview,
            "promised_days": version.promised_days, "events": list(version.events),
            "materials": [m["key"] for m in version.materials],
            "change_note": version.change_note,
            "published_at": version.published_at.isoformat() if version.published_at else None}


def _check_editor(actor: Actor) -> None:
    """None is the system (demo loader, CLI without --user); a user must be an editor."""
    if actor is not None and not access.can_edit_catalogue(actor):
        raise IllegalStep("只有事项目录管理员可以修改事项目录")


def _user(actor: Actor) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# ---------------------------------------------------------------------------------------
# import


def do_import_catalogue(rows: list[dict[str, Any]], actor: Actor, *, publish: bool = True,
                        change_note: str = "") -> ImportReport:
    """Create or update items by code, all or nothing. Every row is checked first; with one
    error nothing is written and the report lists every error (row index and field). Each
    changed item gets a new version — published (superseding the old one) or, with
    publish=False, its one draft (replacing an earlier draft's content). An item whose row
    equals its current version makes no version at all."""
    _check_editor(actor)
    report = ImportReport()
    if not isinstance(rows, list):
        report.errors.append(RowError(0, "items", "应为事项列表"))
        return report
    departments = dict(Department.objects.values_list("code", "id"))
    cleaned: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        try:
            c = clean_item(row, departments=departments)
        except ServiceError as e:
            report.errors.append(RowError(i, f"items.{i}.{e.field}", e.msg))
            continue
        if c["code"] in first_row:
            report.errors.append(RowError(
                i, f"items.{i}.code", f"事项编码 {c['code']} 与第{first_row[c['code']]}项重复"))
            continue
        first_row[c["code"]] = i
        cleaned.append(c)
    if report.errors:
        return report

    now = timezone.now()
    user = _user(actor)
    note = change_note or ("批量导入" if publish else "批量导入（草稿）")
    with transaction.atomic():
        existing = {it.code: it for it in ServiceItem.objects.select_for_update().filter(
            code__in=list(first_row))}
        currents = {v.item_id: v for v in ItemVersion.objects.select_related(None).filter(
            item__in=list(existing.values()), state=ItemVersion.State.PUBLISHED)}
        drafts = {v.item_id: v for v in ItemVersion.objects.filter(
            item__in=list(existing.values()), state=ItemVersion.State.DRAFT)}
        last_number = dict(ItemVersion.objects.filter(item__in=list(existing.values()))
                           .values("item").annotate(n=Max("number")).values_list("item", "n"))
        code_of_dept = {pk: code for code, pk in departments.items()}

        new_items: list[ServiceItem] = []
        changed: list[tuple[ServiceItem, dict[str, Any]]] = []
        for c in cleaned:
            item = existing.get(c["code"])
            if item is None:
                item = ServiceItem(code=c["code"], name=c["name"], type=c["type"],
                                   level=c["level"], department_id=departments[c["department"]],
                                   proxy_eligible=c["proxy_eligible"],
                                   online_prereview=c["online_prereview"],
                                   events_text=events_text(c["events"]) if publish else "")
                new_items.append(item)
                report.created.append(c["code"])
                changed.append((item, c))
                continue
            base = drafts.get(item.pk) if not publish else None
            base = base or currents.get(item.pk)
            if base is not None and version_row(
                    base, code=item.code,
                    department_code=code_of_dept.get(base.department_id)) == c:
                report.unchanged.append(c["code"])
                continue
            report.updated.append(c["code"])
            changed.append((item, c))
        ServiceItem.objects.bulk_create(new_items)

        # drafts replaced in place (one draft per item), the rest are new versions
        replace = {item.pk: drafts[item.pk] for item, _ in changed
                   if not publish and item.pk in drafts}
        if publish:
            ItemVersion.objects.filter(pk__in=[currents[item.pk].pk for item, _ in changed
                                               if item.pk in currents]).update(
                state=ItemVersion.State.SUPERSEDED)
        new_versions: list[ItemVersion] = []
        rewritten: list[ItemVersion] = []
        for item, c in changed:
            values = _version_values(c, departments[c["department"]])
            if item.pk in replace:
                draft = replace[item.pk]
                for k, v in values.items():
                    setattr(draft, k, v)
                draft.change_note, draft.created_by = note, user
                rewritten.append(draft)
                continue
            v = ItemVersion(item=item, number=last_number.get(item.pk, 0) + 1,
                            change_note=note, created_by=user, **values)
            if publish:
                v.state = ItemVersion.State.PUBLISHED
                v.published_by, v.published_at = user, now
            new_versions.append(v)
        ItemVersion.objects.bulk_create(new_versions)
        if rewritten:
            ItemVersion.objects.bulk_update(rewritten, [*VERSION_FIELDS, "change_note",
                                                        "created_by"])

        published_items: list[ServiceItem] = []
        if publish:
            for v in new_versions:
                _copy_onto_item(v.item, v)
                published_items.append(v.item)
            _copy_onto_items(published_items, now)
            outbox.enqueue_many([
                ("services.item_published",
                 _published_payload(v.item, v, code_of_dept[v.department_id]))
                for v in new_versions])
        audit.record("services.catalogue_imported", actor=actor,
                     object_type="services.catalogue", publish=publish,
                     created=report.created, updated=report.updated,
                     unchanged=len(report.unchanged))
        if published_items:
            search.index_items(published_items)
    return report


# ---------------------------------------------------------------------------------------
# drafts, publishing, withdrawing


def _locked_item(item_code: str) -> ServiceItem:
    item = ServiceItem.objects.select_for_update().filter(code=item_code).first()
    if item is None:
        raise ServiceError("item_code", f"没有编码为 {item_code} 的事项", "unknown_item")
    return item


def do_save_draft(actor: Actor, item_code: str, changes: Mapping[str, Any]) -> ItemVersion:
    """Save the item's one draft: made from the current version the first time, edited in
    place after that. `changes` holds exchange-format fields (not `code`) and optionally
    `change_note`; the merged guide is checked whole (clean_item)."""
    _check_editor(actor)
    changes = dict(changes)
    note = changes.pop("change_note", None)
    if "code" in changes and changes["code"] != item_code:
        raise ServiceError("code", "事项编码不能修改", "immutable")
    with transaction.atomic():
        item = _locked_item(item_code)
        draft = item.versions.filter(state=ItemVersion.State.DRAFT).first()
        base = draft or item.current
        if base is None:
            raise ServiceError("item_code", "该事项没有可编辑的版本", "no_version")
        clean = clean_item({**version_row(base, code=item.code), **changes, "code": item.code})
        department_id = Department.objects.get(code=clean["department"]).pk
        values = _version_values(clean, department_id)
        if note is not None:
            values["change_note"] = _text(note, "change_note", 200)
        created = draft is None
        if created:
            number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            draft = ItemVersion(item=item, number=number, created_by=_user(actor))
        for k, v in values.items():
            setattr(draft, k, v)
        draft.save()
        audit.record("services.draft_saved", actor=actor, object_type="services.item",
                     object_id=item.code, version=draft.number, created=created,
                     fields=sorted(changes))
    return draft


def do_discard_draft(actor: Actor, version: ItemVersion) -> None:
    """Throw a draft away (a published or superseded version is history and stays)."""
    _check_editor(actor)
    with transaction.atomic():
        _locked_item(version.item.code)
        version = ItemVersion.objects.select_for_update().get(pk=version.pk)
        if version.state != ItemVersion.State.DRAFT:
            raise IllegalStep("只有草稿可以删除；已发布的版本作为历史保留")
        audit.record("services.draft_discarded", actor=actor, object_type="services.item",
                     object_id=version.item.code, version=version.number)
        version.delete()


def do_publish(actor: Actor, version: ItemVersion) -> ItemVersion:
    """Publish a draft: the previous published version is superseded (kept, as applications
    made under it point at it), the item's searched fields are copied from the draft, the
    item is re-indexed, and `services.item_published` tells whoever cares."""
    _check_editor(actor)
    with transaction.atomic():
        item = _locked_item(version.item.code)
        version = ItemVersion.objects.select_for_update().select_related("department").get(
            pk=version.pk)
        if version.state != ItemVersion.State.DRAFT:
            raise IllegalStep(f"第{version.number}版已是{version.get_state_display()}，"
                              "只有草稿可以发布")
        previous = item.versions.filter(state=ItemVersion.State.PUBLISHED).first()
        if previous is not None:
            previous.state = ItemVersion.State.SUPERSEDED
            previous.save(update_fields=["state"])
        version.state = ItemVersion.State.PUBLISHED
        version.published_by, version.published_at = _user(actor), timezone.now()
        version.save(update_fields=["state", "published_by", "published_at"])
        _copy_onto_item(item, version)
        item.save()
        audit.record("services.item_published", actor=actor, object_type="services.item",
                     object_id=item.code, version=version.number,
                     previous=previous.number if previous else None,
                     change_note=version.change_note)
        outbox.enqueue("services.item_published",
                       _published_payload(item, version, version.department.code))
        search.index_items([item])
    return version


def _set_active(actor: Actor, item_code: str, active: bool, reason: str) -> ServiceItem:
    _check_editor(actor)
    reason = _text(reason, "reason", 200, required=not active)
    with transaction.atomic():
        item = _locked_item(item_code)
        if item.active == active:
            raise IllegalStep("该事项已停办" if not active else "该事项在办")
        item.active = active
        item.save(update_fields=["active", "updated_at"])
        action = "services.item_reactivated" if active else "services.item_withdrawn"
        audit.record(action, actor=actor, object_type="services.item", object_id=item.code,
                     reason=reason)
        outbox.enqueue(action, {"code": item.code, "name": item.name, "active": active,
                                "reason": reason})
        search.index_items([item])
    return item


def do_withdraw_item(actor: Actor, item_code: str, reason: str) -> ServiceItem:
    """Stop offering an item (停办): it leaves the service hall and search; its versions and
    the applications made under them stay."""
    return _set_active(actor, item_code, False, reason)


def do_reactivate_item(actor: Actor, item_code: str, reason: str = "") -> ServiceItem:
    return _set_active(actor, item_code, True, reason)
