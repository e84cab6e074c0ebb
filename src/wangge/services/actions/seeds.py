"""Synonym groups and stage clocks for `wangge setup` and the demo: only what is missing is
added, so a city's own edits stay as they are."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from wangge.core import audit
from wangge.services.models import StageClock, Synonym


def _load(name: str) -> Any:
    return json.loads(resources.files("wangge.services.seed_data").joinpath(name)
                      .read_text(encoding="utf-8"))


def do_seed_services() -> dict[str, int]:
    added = {"synonyms": 0, "stage_clocks": 0}
    with transaction.atomic():
        have = set(Synonym.objects.values_list("group", "phrase"))
        new = [Synonym(group=g, phrase=p) for g, phrases in _load("synonyms.json").items()
               for p in phrases if (g, p) not in have]
        Synonym.objects.bulk_create(new)
        added["synonyms"] = len(new)
        have_stages = set(StageClock.objects.values_list("stage", flat=True))
        clocks = [StageClock(**row) for row in _load("stage_clocks.json")
                  if row["stage"] not in have_stages]
        StageClock.objects.bulk_create(clocks)
        added["stage_clocks"] = len(clocks)
        if any(added.values()):
            audit.record("services.seeded", actor=None, object_type="services.catalogue",
                         **added)
    return added
