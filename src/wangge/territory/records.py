"""Grid records as plain data, shared by import, export, validation and the demo."""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely


@dataclass(frozen=True, slots=True)
class GridRecord:
    code: str
    name: str
    level: int
    kind: str
    parent_code: str | None
    geometry: shapely.Geometry


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth knowing) about one grid or feature."""

    reason: str
    code: str | None = None
    feature: int | None = None  # index of the feature in the imported file
    field: str = ""

    def __str__(self) -> str:
        where = []
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.code:
            where.append(f"code {self.code}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where) or 'file'}: {self.reason}"


def square_metres(area_deg2: float, lat: float) -> float:
    """Rough m² of an area measured in degrees², good enough to report a gap's size."""
    return area_deg2 * 111_320.0 * 111_320.0 * math.cos(math.radians(lat))
