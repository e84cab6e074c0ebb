"""The import/export column templates (Chinese headers → field keys). docs/registry-import.md
shows them to users; import accepts the header or the key."""

from __future__ import annotations

RESIDENT_COLUMNS: list[tuple[str, str]] = [
    ("姓名", "name"),
    ("身份证号", "id_number"),
    ("联系电话", "phone"),
    ("民族", "ethnicity"),
    ("人口类型", "residence_type"),
    ("楼栋编号", "building"),
    ("房号", "house"),
    ("户号", "household"),
    ("与户主关系", "relation"),
    ("迁入日期", "moved_in"),
    ("迁出日期", "moved_out"),
]

BUILDING_COLUMNS: list[tuple[str, str]] = [
    ("楼栋编号", "code"),
    ("名称", "name"),
    ("地址", "address"),
    ("经度", "lng"),
    ("纬度", "lat"),
    ("层数", "floors"),
    ("用途", "use"),
]

HOUSE_COLUMNS: list[tuple[str, str]] = [
    ("楼栋编号", "building"),
    ("房号", "number"),
    ("面积", "area"),
    ("用途", "use"),
]

COLUMNS = {"residents": RESIDENT_COLUMNS, "buildings": BUILDING_COLUMNS,
           "houses": HOUSE_COLUMNS}
REQUIRED = {
    "residents": {"name", "id_number", "residence_type", "building", "house"},
    "buildings": {"code", "name", "address", "lng", "lat", "floors", "use"},
    "houses": {"building", "number", "area", "use"},
}
