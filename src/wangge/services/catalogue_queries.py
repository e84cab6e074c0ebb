"""Read shapes of the catalogue console: what changed between two versions of a guide, and
the filter counts of the list. Built only from what services.access returns."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.services.actions.catalogue import version_row
from wangge.services.models import ItemLevel, ItemType, ItemVersion, LifeEvent, MaterialForm

#: the exchange fields as the console labels them, in the guide's order
LABELS: dict[str, Any] = {
    "name": _("事项名称"), "aliases": _("俗称"), "type": _("事项类型"),
    "department": _("实施部门"), "level": _("行使层级"), "legal_basis": _("设定依据"),
    "conditions": _("受理条件"), "materials": _("申请材料"), "steps": _("办理流程"),
    "legal_days": _("法定办结时限（工作日）"), "promised_days": _("承诺办结时限（工作日）"),
    "fee": _("收费标准"), "place": _("办理地点"), "hours": _("办理时间"),
    "phone": _("咨询电话"), "in_person_times": _("到现场次数"),
    "online_prereview": _("可网上预审"), "prereview_days": _("预审时限（工作日）"),
    "proxy_eligible": _("可由网格员代办"), "events": _("人生事件"), "faq": _("常见问题"),
}
CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "type": dict(ItemType.choices), "level": dict(ItemLevel.choices),
    "events": dict(LifeEvent.choices), "form": dict(MaterialForm.choices),
}


def show(name: str, value: Any) -> str:
    """One field's value as a line of text for the diff."""
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if name in ("type", "level"):
        return str(CHOICE_LABELS[name].get(value, value))
    if name == "events":
        return "、".join(str(CHOICE_LABELS["events"].get(e, e)) for e in value)
    if name in ("aliases",):
        return "、".join(value)
    if name == "steps":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(value, 1))
    if name == "faq":
        return "\n".join(f"问：{qa['q']}\n答：{qa['a']}" for qa in value)
    return "" if value is None else str(value)


def material_line(m: dict[str, Any]) -> str:
    form = CHOICE_LABELS["form"].get(m["form"], m["form"])
    need = _("必需") if m["required"] else _("按情形") + (f"：{m['condition']}"
                                                        if m["condition"] else "")
    note = f"；{m['note']}" if m["note"] else ""
    return f"{m['name']}（{form}{m['count']}份，{need}{note}）"


def version_diff(old: ItemVersion | None, new: ItemVersion) -> list[dict[str, Any]]:
    """The fields that differ, each {field, label, old, new}; materials compared by key,
    each change a row {key, change: added|removed|changed, old, new}."""
    a = version_row(old, code="-") if old is not None else None
    b = version_row(new, code="-")
    out: list[dict[str, Any]] = []
    for name, label in LABELS.items():
        before = a[name] if a is not None else None
        after = b[name]
        if before == after:
            continue
        row: dict[str, Any] = {"field": name, "label": label}
        if name == "materials":
            old_m = {m["key"]: m for m in before or []}
            new_m = {m["key"]: m for m in after}
            row["materials"] = [
                {"key": k, "change": "removed" if k not in new_m else
                 "added" if k not in old_m else "changed",
                 "old": material_line(old_m[k]) if k in old_m else "",
                 "new": material_line(new_m[k]) if k in new_m else ""}
                for k in [*old_m, *[k for k in new_m if k not in old_m]]
                if old_m.get(k) != new_m.get(k)]
        else:
            row["old"] = show(name, before) if before is not None else ""
            row["new"] = show(name, after)
        out.append(row)
    return out


def guide_fields(version: ItemVersion) -> list[dict[str, Any]]:
    """The guide as (label, text) rows for the item page (materials and FAQ apart)."""
    row = version_row(version, code="-")
    return [{"field": n, "label": LABELS[n], "text": show(n, row[n])}
            for n in LABELS if n not in ("name", "materials", "faq", "department")
            and row[n] not in ("", [], None)]


def list_counts(items: QuerySet[Any]) -> dict[str, int]:
    return items.aggregate(
        total=Count("pk"), proxy=Count("pk", filter=Q(proxy_eligible=True)),
        prereview=Count("pk", filter=Q(online_prereview=True)),
        withdrawn=Count("pk", filter=Q(active=False)),
        unpublished=Count("pk", filter=Q(current__isnull=True)))
