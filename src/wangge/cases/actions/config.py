"""Configuration that is data: the classification list, the inspection list and the
department duty list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from wangge.cases import access
from wangge.cases.errors import CaseError
from wangge.cases.models import CaseCategory, DutyRule, InspectionItem, PublicCategory
from wangge.core import audit, outbox
from wangge.org.models import Department
from wangge.territory.models import Grid


def do_seed_classification(rows: list[dict[str, Any]], city: Grid) -> int:
    """Load a classification list and its city-wide duty rules (data, per city). `duty` is
    "department:<code>" or "system:<code>" (an external system's department)."""
    with transaction.atomic():
        by_code: dict[str, CaseCategory] = {}
        for row in rows:
            by_code[row["code"]] = CaseCategory.objects.create(
                code=row["code"], name=row["name"], parent=by_code.get(row["parent"] or ""),
                sla_policy=row.get("sla_policy", ""), confidential=row.get("confidential", False),
                intake_condition=row.get("intake_condition", ""),
                closeout_condition=row.get("closeout_condition", ""),
            )
        for row in rows:
            kind, _, code = (row.get("duty") or "").partition(":")
            if kind in ("department", "system"):
                target = Department.objects.get(
                    code=code, **({"kind": Department.Kind.EXTERNAL} if kind == "system" else {}))
                DutyRule.objects.create(category=by_code[row["code"]], grid=city,
                                        department=target)
        outbox.enqueue("cases.classification_seeded", {"categories": len(rows)})
    return len(rows)


def do_seed_inspection_items(rows: list[dict[str, Any]]) -> int:
    """Load the daily inspection list (data, per city)."""
    categories = dict(CaseCategory.objects.values_list("code", "id"))
    with transaction.atomic():
        InspectionItem.objects.bulk_create([
            InspectionItem(grid_kind=r["grid_kind"], name=r["name"], guidance=r["guidance"],
                           category_id=categories.get(r["category"]), order=r["order"])
            for r in rows
        ])
        outbox.enqueue("cases.inspection_items_seeded", {"items": len(rows)})
    return len(rows)


def check_manage_rules(actor: AbstractBaseUser, grid: Grid) -> None:
    if not access.can_manage_rules(actor, grid):
        raise PermissionDenied("only the center (or the sub-center, for its subtree) keeps "
                               "the duty list")


def do_set_duty_rule(actor: AbstractBaseUser, *, category: str, grid: str,
                     department: str = "", external_system: str = "") -> DutyRule:
    """Add or change the rule for (category, subtree): one target, named as a department or
    as an external system (either way a department; a system's is of kind `external`)."""
    cat = CaseCategory.objects.filter(code=category).first()
    if cat is None:
        raise CaseError("category", f"no category {category}")
    where = Grid.objects.filter(code=grid).first()
    if where is None:
        raise CaseError("grid", f"no grid {grid}")
    check_manage_rules(actor, where)
    if bool(department) == bool(external_system):
        raise CaseError("department", "name either a department or an external system")
    if department:
        if (dept := Department.objects.filter(code=department).first()) is None:
            raise CaseError("department", f"no department {department}")
    elif (dept := Department.objects.filter(code=external_system,
                                            kind=Department.Kind.EXTERNAL).first()) is None:
        raise CaseError("external_system", f"no external system {external_system}")
    with transaction.atomic():
        rule, created = DutyRule.objects.update_or_create(
            category=cat, grid=where, defaults={"department": dept})
        target = dept.code
        audit.record("cases.duty_rule_set", actor=actor, object_type="duty_rule",
                     object_id=rule.pk, category=category, grid=grid, target=target,
                     created=created)
        outbox.enqueue("cases.duty_rule_set", {"rule": rule.pk, "category": category,
                                               "grid": grid, "target": target})
    return rule


def do_delete_duty_rule(actor: AbstractBaseUser, rule: DutyRule) -> None:
    """Cases already routed keep pointing at the rule's id in their timeline."""
    check_manage_rules(actor, rule.grid)
    with transaction.atomic():
        audit.record("cases.duty_rule_deleted", actor=actor, object_type="duty_rule",
                     object_id=rule.pk, category=rule.category.code, grid=rule.grid.code)
        outbox.enqueue("cases.duty_rule_deleted", {"rule": rule.pk})
        rule.delete()


#: the resident-facing categories shipped with the code (cases/public_categories.json)
PUBLIC_CATEGORIES_FILE = Path(__file__).resolve().parent.parent / "public_categories.json"


def do_seed_public_categories(rows: list[dict[str, Any]] | None = None) -> int:
    """Load the resident-facing categories (居民可选的问题类型, the Open311 services): an
    upsert by `code`, so running it again changes nothing and a city's edits of other codes
    stay. Each row names a small class of the classification by its code; a missing or
    confidential class is refused (CaseError) and nothing is written. Returns the count."""
    if rows is None:
        rows = json.loads(PUBLIC_CATEGORIES_FILE.read_text(encoding="utf-8"))
    smalls = {c.code: c for c in CaseCategory.objects.filter(
        code__in=[r["category"] for r in rows], parent__isnull=False)}
    for row in rows:
        small = smalls.get(row["category"])
        if small is None or small.confidential:
            raise CaseError("category", f"{row['code']}: no public small class "
                                        f"{row['category']}")
    with transaction.atomic():
        for row in rows:
            PublicCategory.objects.update_or_create(code=row["code"], defaults={
                "name": row["name"], "description": row.get("description", ""),
                "group": row["group"], "keywords": row.get("keywords", ""),
                "category": smalls[row["category"]],
                "intake_fields": row.get("intake_fields", []),
                "order": row.get("order", 0), "active": row.get("active", True),
                "listed": row.get("listed", True)})
        outbox.enqueue("cases.public_categories_seeded", {"categories": len(rows)})
    return len(rows)
