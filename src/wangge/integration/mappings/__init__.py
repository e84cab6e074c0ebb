"""The category mapping tables shipped for the demo city, as data (one JSON file per
adapter kind): our small class → their codes. A city loads them with
`integration.actions.external.do_load_mappings` and fixes rows in the console.

`city_management.json`: CJ/T 214 部件/事件 codes (`their_kind` 部件 or 事件,
`their_parent_code` the 大类, `their_code` the 小类), with the 大类 names per kind in
`main_classes`. `hotline_12345.json`: the hotline's 事项分类 (`their_code`, six digits, its
first two the 一级分类 in `parent_classes`) and the 诉求类型 in `their_kind`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@cache
def _document(kind: str) -> dict[str, Any]:
    path = HERE / f"{kind}.json"
    if not path.is_file():
        raise KeyError(f"no shipped mapping table for adapter kind {kind!r}")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def shipped_rows(kind: str) -> list[dict[str, str]]:
    """The rows of the table shipped for this adapter kind (copies: callers may change them)."""
    return [dict(row) for row in _document(kind)["mappings"]]


def main_class_name(kind: str, their_kind: str, code: str) -> str:
    """The name of a parent class in the shipped table: 数字城管's 大类 per 部件/事件
    (`main_class_name("city_management", "部件", "01")` → 公用设施), 12345's 一级分类
    (their_kind ignored); "" when the table does not know it."""
    doc = _document(kind)
    if "main_classes" in doc:
        return str(doc["main_classes"].get(their_kind, {}).get(code, ""))
    return str(doc.get("parent_classes", {}).get(code, ""))
