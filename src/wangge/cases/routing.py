"""Reading back how a case was routed (the duty rule that sent it where)."""

from __future__ import annotations

from collections.abc import Iterable

from wangge.cases.models import CaseEvent


def routing_text(events: Iterable[CaseEvent]) -> str:
    """The last routing decision on the timeline: the rule's text, or the department a
    dispatcher chose by hand."""
    text = ""
    for e in events:
        if e.action in ("register", "dispatch") and e.data.get("rule_text"):
            text = e.data["rule_text"]
    return text
