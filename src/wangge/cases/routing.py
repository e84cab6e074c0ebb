"""Routing by the department duty list (部门职责清单): which rule sends a case where, and
reading back how a case was routed."""

from __future__ import annotations

from collections.abc import Iterable

from wangge.cases.models import CaseCategory, CaseEvent, DutyRule
from wangge.territory.models import Grid


def routing_text(events: Iterable[CaseEvent]) -> str:
    """The last routing decision on the timeline: the rule's text, or the department a
    dispatcher chose by hand."""
    text = ""
    for e in events:
        if e.action in ("register", "dispatch") and e.data.get("rule_text"):
            text = e.data["rule_text"]
    return text


def route(category: CaseCategory, grid: Grid) -> DutyRule | None:
    """The most specific duty rule: the deepest grid on the case's path, and a small class
    before its big class."""
    rules = DutyRule.objects.filter(
        category_id__in=[c for c in (category.pk, category.parent_id) if c]
    ).select_related("category", "grid", "department")
    matching = [r for r in rules if grid.path.startswith(r.grid.path)]
    if not matching:
        return None
    return max(matching, key=lambda r: (len(r.grid.path), r.category_id == category.pk))


def describe_rule(rule: DutyRule | None) -> str:
    """What the timeline keeps of a rule, so a routed case still shows which rule sent it
    where after the duty list has changed."""
    if rule is None:
        return ""
    cat = rule.category
    return f"{cat.code} {cat.name} @ {rule.grid.name} → {rule.department.name}"
