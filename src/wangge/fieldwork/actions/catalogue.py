"""The fieldwork catalogues (visit kinds, visit frequencies, opinion topics, materials)
and the default rule of the day: seeded from fieldwork/seed_data by `wangge setup` and the
demo. Only what is missing is added: a city's own edits stay as they are."""

from __future__ import annotations

from django.db import transaction

from wangge.core import audit
from wangge.fieldwork import seeds
from wangge.fieldwork.models import FieldRule, Material, OpinionTopic, VisitFrequency, VisitKind
from wangge.territory.models import Grid


def do_seed_fieldwork() -> dict[str, int]:
    """Add the missing catalogue rows (by code) and, when the city grid exists and has no
    rule, the default FieldRule on it. Returns how many rows of each were added."""
    added = {"visit_kinds": 0, "visit_frequencies": 0, "opinion_topics": 0, "materials": 0,
             "field_rules": 0}
    with transaction.atomic():
        have = set(VisitKind.objects.values_list("code", flat=True))
        new_kinds = [VisitKind(**r) for r in seeds.visit_kinds() if r["code"] not in have]
        VisitKind.objects.bulk_create(new_kinds)
        added["visit_kinds"] = len(new_kinds)

        kinds = dict(VisitKind.objects.values_list("code", "pk"))
        have = set(VisitFrequency.objects.values_list("special_group_kind", flat=True))
        new_freq = [VisitFrequency(special_group_kind=r["special_group_kind"],
                                   every_days=r["every_days"], visit_kind_id=kinds[r["visit_kind"]])
                    for r in seeds.visit_frequencies() if r["special_group_kind"] not in have]
        VisitFrequency.objects.bulk_create(new_freq)
        added["visit_frequencies"] = len(new_freq)

        have = set(OpinionTopic.objects.values_list("code", flat=True))
        new_topics = [OpinionTopic(**r) for r in seeds.opinion_topics() if r["code"] not in have]
        OpinionTopic.objects.bulk_create(new_topics)
        added["opinion_topics"] = len(new_topics)

        have = set(Material.objects.values_list("code", flat=True))
        new_materials = [Material(**r) for r in seeds.materials() if r["code"] not in have]
        Material.objects.bulk_create(new_materials)
        added["materials"] = len(new_materials)

        city = Grid.objects.filter(level=0).order_by("pk").first()
        if city is not None and not FieldRule.objects.filter(grid=city).exists():
            FieldRule.objects.create(grid=city, **seeds.field_rule())
            added["field_rules"] = 1
        if any(added.values()):
            audit.record("fieldwork.catalogue_seeded", actor=None,
                         object_type="fieldwork.catalogue", **added)
    return added
