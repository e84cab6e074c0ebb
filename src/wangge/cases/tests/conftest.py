from __future__ import annotations

import pytest

from wangge.territory.models import Grid


@pytest.fixture
def spot() -> tuple[float, float]:
    """A point in 胜利社区第1网格, the demo grid worker's grid."""
    grid = Grid.objects.get(name="胜利社区第1网格")
    return grid.label_lng, grid.label_lat


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Photos go to a temporary folder, never into the data directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
