"""The 13 kinds (seed_data/kinds.json), a monthly screening rule on the root grids and the
stage clocks, for `wangge setup` and the demo. Never overwrites a city's own edits: only
what is missing is added (a kind by its code, a rule by its grid, a clock by its stage)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from wangge.core import audit
from wangge.disputes.models import DisputeKind, ScreeningRule, StageClock
from wangge.territory.models import Grid

KINDS_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "kinds.json"
#: working days per stage (StageClock): take up within 3, mediate within 30, follow up
#: within 10 of the agreement
DEFAULT_CLOCKS = {StageClock.Stage.ACCEPT: 3, StageClock.Stage.MEDIATE: 30,
                  StageClock.Stage.FOLLOW_UP: 10}


def kinds_data() -> list[dict[str, Any]]:
    return json.loads(KINDS_FILE.read_text(encoding="utf-8"))


def do_seed_disputes() -> dict[str, int]:
    """{"kinds": n added, "rules": n, "clocks": n}"""
    with transaction.atomic():
        known = set(DisputeKind.objects.values_list("code", flat=True))
        kinds = [DisputeKind(code=k["code"], name=k["name"], order=k.get("order", 0),
                             sensitive=bool(k.get("sensitive")), money=bool(k.get("money")),
                             case_category=k.get("case_category", ""))
                 for k in kinds_data() if k["code"] not in known]
        DisputeKind.objects.bulk_create(kinds)
        ruled = set(ScreeningRule.objects.values_list("grid_id", flat=True))
        rules = [ScreeningRule(grid_id=pk, period=ScreeningRule.Period.MONTH)
                 for pk in Grid.objects.filter(parent__isnull=True).values_list("pk", flat=True)
                 if pk not in ruled]
        ScreeningRule.objects.bulk_create(rules)
        staged = set(StageClock.objects.values_list("stage", flat=True))
        clocks = [StageClock(stage=stage, working_days=days)
                  for stage, days in DEFAULT_CLOCKS.items() if stage not in staged]
        StageClock.objects.bulk_create(clocks)
        counts = {"kinds": len(kinds), "rules": len(rules), "clocks": len(clocks)}
        if any(counts.values()):
            audit.record("disputes.seeded", actor=None, object_type="disputes.config",
                         **counts)
    return counts
