"""Small hand-made grid trees for tests (far from the demo city, so both can coexist)."""

from __future__ import annotations

import shapely

from wangge.territory.records import GridRecord

X0, Y0 = 100.0, 30.0  # a patch of ground the demo city does not use


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def small_tree(prefix: str = "999999") -> list[GridRecord]:
    """City → zone → town → village, the village cut into two basic grids."""
    whole = box(0, 0, 0.02, 0.01)
    city, zone, town, village = (f"{prefix}000000", f"{prefix}901000", f"{prefix}001000",
                                 f"{prefix}001001")
    return [
        GridRecord(city, "测试市", 0, "city", None, whole),
        GridRecord(zone, "第一片区", 1, "zone", city, whole),
        GridRecord(town, "测试街道", 2, "subdistrict", zone, whole),
        GridRecord(village, "测试社区", 3, "community", town, whole),
        GridRecord(village + "001", "测试社区第1网格", 4, "urban", village, box(0, 0, 0.01, 0.01)),
        GridRecord(village + "002", "测试社区第2网格", 4, "urban", village,
                   box(0.01, 0, 0.02, 0.01)),
    ]
