"""`wangge setup` seeds what each app declares on its AppConfig (core names no app): the
workcal app restores a missing SLA policy and says so, and says nothing when all is there."""

from __future__ import annotations

import pytest
from django.apps import apps

from wangge.workcal.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_the_workcal_app_seeds_a_missing_policy_for_setup() -> None:
    hook = apps.get_app_config("workcal").seed_defaults
    assert hook() == ""  # everything present: nothing to say, nothing changed
    SlaPolicy.objects.filter(code="general_7wd").delete()
    assert "general_7wd" in hook()
    assert SlaPolicy.objects.filter(code="general_7wd").exists()


def test_setup_asks_every_app_that_declares_defaults() -> None:
    from wangge.core.management.commands import setup

    assert "workcal" not in setup.__dict__  # no import of the app by name
    declaring = [c.label for c in apps.get_app_configs() if hasattr(c, "seed_defaults")]
    assert sorted(declaring) == ["analytics", "disputes", "fieldwork", "services", "workcal"]
