"""Open311 test set-up: two resident-facing categories of our own (one with attributes),
an API key of an external system, a point in the demo city, and fresh rate-limit counters."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from wangge.cases.models import CaseCategory, PublicCategory
from wangge.territory.models import Grid

DRAIN_FIELDS: list[dict[str, Any]] = [
    {"code": "severity", "datatype": "singlevaluelist", "required": True, "order": 1,
     "description": "严重程度",
     "values": [{"key": "minor", "name": "轻微"}, {"key": "overflow", "name": "溢出到路面"}]},
    {"code": "smell", "datatype": "multivaluelist", "required": False, "order": 2,
     "description": "气味",
     "values": [{"key": "sewage", "name": "污水味"}, {"key": "gas", "name": "燃气味"}]},
    {"code": "depth_cm", "datatype": "number", "required": False, "order": 3,
     "description": "积水深度（厘米）"},
]


@pytest.fixture(autouse=True)
def fresh_limits_and_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Each test starts with no reports counted; photos go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def spot() -> tuple[float, float]:
    grid = Grid.objects.get(name="胜利社区第1网格")
    return grid.label_lng, grid.label_lat


@pytest.fixture
def drain() -> PublicCategory:
    small = CaseCategory.objects.get(code="0601")
    return PublicCategory.objects.update_or_create(code="t311-drain", defaults={
        "name": "下水道堵了（测试）", "group": "市政设施", "category": small,
        "description": "下水道堵塞、污水冒出", "keywords": "下水道,堵塞",
        "intake_fields": DRAIN_FIELDS, "order": 1})[0]


@pytest.fixture
def light() -> PublicCategory:
    small = CaseCategory.objects.get(code="0602")
    return PublicCategory.objects.update_or_create(code="t311-light", defaults={
        "name": "路灯不亮（测试）", "group": "市政设施", "category": small, "order": 2})[0]


@pytest.fixture
def api_key() -> str:
    from wangge.integration.actions import do_create_token
    from wangge.org.actions import do_ensure_external_department

    system = do_ensure_external_department("t311-app", name="测试应用")
    return do_create_token(system.service_user, label="test").secret
