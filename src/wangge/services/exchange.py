"""The catalogue as a file: export to JSON and XLSX, and parsing both back into the exchange
format (services.actions.catalogue.FIELDS) for `do_import_catalogue`.

JSON is the machine format: `{"format": "wangge.services.catalogue", "version": 1, "items":
[...]}` (a bare list of items is read too), values exactly as the exchange format.

XLSX is the department clerk's format, so it holds no JSON text: a clerk edits cells, not
brackets and quotes. Lists that have fields of their own get their own sheet, one row per
entry keyed by the item's code — 「材料」 (one row per material) and 「常见问题」 (one row
per question) — so adding a material is inserting a row, and a filter on the code column
shows one item's checklist. Short lists live in one cell: aliases and life events separated
by 「、」, steps one per line. Choices are written as their Chinese labels (行政许可, 原件,
养老 …) and read back as labels or codes; yes/no as 是/否. A 「说明」 sheet lists the
department codes and every allowed value; it is not read back. Columns are found by their
header, so a clerk may reorder them; an unknown column is ignored.

Every parse error and every import error is given with where to look: the sheet and row
number in a workbook, the item's position in a JSON file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from wangge.core.tables import xlsx_cells
from wangge.org.models import Department
from wangge.services.actions.catalogue import (
    FIELDS,
    MATERIAL_FIELDS,
    RowError,
    version_row,
)
from wangge.services.models import ItemLevel, ItemType, LifeEvent, MaterialForm, ServiceItem

FORMAT = "wangge.services.catalogue"
FORMAT_VERSION = 1

ITEMS_SHEET, MATERIALS_SHEET, FAQ_SHEET, README_SHEET = "事项", "材料", "常见问题", "说明"

#: (header, field) of the items sheet, in export order
ITEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("事项编码", "code"), ("事项名称", "name"), ("俗称", "aliases"), ("事项类型", "type"),
    ("实施部门代码", "department"), ("行使层级", "level"), ("设定依据", "legal_basis"),
    ("受理条件", "conditions"), ("办理流程", "steps"), ("法定时限（工作日）", "legal_days"),
    ("承诺时限（工作日）", "promised_days"), ("收费标准", "fee"), ("办理地点", "place"),
    ("办理时间", "hours"), ("咨询电话", "phone"), ("到现场次数", "in_person_times"),
    ("可网上预审", "online_prereview"), ("预审时限（工作日）", "prereview_days"),
    ("可由网格员代办", "proxy_eligible"), ("人生事件", "events"),
)
#: export-only, for reading: the department's name beside its code
DEPARTMENT_NAME_HEADER = "实施部门（仅供阅读）"
MATERIAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("事项编码", "code"), ("材料键", "key"), ("材料名称", "name"), ("形式", "form"),
    ("份数", "count"), ("必须提交", "required"), ("适用情形", "condition"), ("备注", "note"),
)
FAQ_COLUMNS: tuple[tuple[str, str], ...] = (("事项编码", "code"), ("问题", "q"), ("回答", "a"))

LIST_SEPARATORS = re.compile(r"[、，,；;\n]+")
YES = {"是", "yes", "true", "1", "y", "√"}
NO = {"否", "no", "false", "0", "n", "×"}
CHOICES: dict[str, type] = {"type": ItemType, "level": ItemLevel, "form": MaterialForm}
INT_FIELDS = {"legal_days", "promised_days", "in_person_times", "prereview_days", "count"}
BOOL_FIELDS = {"online_prereview", "proxy_eligible", "required"}


@dataclass
class Parsed:
    """Items in the exchange format, where each came from, and what could not be read."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    #: per item: {"row": sheet row or 1-based position, "materials": [rows], "faq": [rows]}
    sources: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    workbook: bool = False

    def where(self, error: RowError) -> str:
        """Where a clerk finds an error: 「材料」表第12行 (form) or 第4项 (materials.0.form)."""
        if error.row < 0:
            return error.field
        parts = error.field.split(".")
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else error.row
        rest = parts[2:] if len(parts) > 2 else parts
        src = self.sources[index] if 0 <= index < len(self.sources) else None
        if src is None:
            return ".".join(rest)
        if not self.workbook:
            return f"第{src['row']}项 {'.'.join(rest)}"
        if rest[0] in ("materials", "faq") and len(rest) > 1 and rest[1].isdigit():
            sheet = MATERIALS_SHEET if rest[0] == "materials" else FAQ_SHEET
            rows = src[rest[0]]
            j = int(rest[1])
            if j < len(rows):
                return f"「{sheet}」表第{rows[j]}行 {'.'.join(rest[2:]) or rest[0]}"
        return f"「{ITEMS_SHEET}」表第{src['row']}行 {rest[0]}"

    def messages(self, errors: Iterable[RowError]) -> list[str]:
        return [f"{self.where(e)}：{e.msg}" for e in errors]


# ---------------------------------------------------------------------------------------
# export


def catalogue_rows(items: QuerySet[ServiceItem] | None = None) -> list[dict[str, Any]]:
    """The current (published) guide of each item in the exchange format, by code."""
    qs = (items if items is not None else ServiceItem.objects.all()).filter(
        current__isnull=False).select_related("current", "current__department")
    return [version_row(it.current, code=it.code, department_code=it.current.department.code)
            for it in qs.order_by("code")]


def to_json(rows: list[dict[str, Any]]) -> bytes:
    doc = {"format": FORMAT, "version": FORMAT_VERSION,
           "exported_at": timezone.now().isoformat(timespec="seconds"), "items": rows}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _label(choices: type, value: str) -> str:
    return str(dict(choices.choices).get(value, value))  # type: ignore[attr-defined]


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    departments = dict(Department.objects.values_list("code", "name"))
    wb = Workbook(write_only=True)
    items = wb.create_sheet(ITEMS_SHEET)
    items.append([h for h, _ in ITEM_COLUMNS] + [DEPARTMENT_NAME_HEADER])
    materials = wb.create_sheet(MATERIALS_SHEET)
    materials.append([h for h, _ in MATERIAL_COLUMNS])
    faq = wb.create_sheet(FAQ_SHEET)
    faq.append([h for h, _ in FAQ_COLUMNS])
    for r in rows:
        values: list[object] = []
        for _, name in ITEM_COLUMNS:
            v = r[name]
            if name in ("aliases",):
                v = "、".join(v)
            elif name == "events":
                v = "、".join(_label(LifeEvent, e) for e in v)
            elif name == "steps":
                v = "\n".join(v)
            elif name in CHOICES:
                v = _label(CHOICES[name], v)
            elif name in BOOL_FIELDS:
                v = "是" if v else "否"
            values.append(v)
        values.append(departments.get(r["department"], ""))
        items.append(xlsx_cells(items, values))
        for m in r["materials"]:
            materials.append(xlsx_cells(materials, [
                r["code"], m["key"], m["name"], _label(MaterialForm, m["form"]), m["count"],
                "是" if m["required"] else "否", m["condition"], m["note"]]))
        for qa in r["faq"]:
            faq.append(xlsx_cells(faq, [r["code"], qa["q"], qa["a"]]))
    readme = wb.create_sheet(README_SHEET)
    for line in _readme(departments):
        readme.append(xlsx_cells(readme, line))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _readme(departments: dict[str, str]) -> list[list[object]]:
    lines: list[list[object]] = [
        ["本工作簿为服务事项目录的导入导出格式（本表不导入）。"],
        ["「事项」表每行一个事项；「材料」表每行一份材料，「常见问题」表每行一个问答，都以事项编码对应。"],
        ["俗称、人生事件用「、」分隔；办理流程每行一步；是否类填「是」或「否」。"],
        ["材料键：1至40位小写字母、数字、下划线或连字符，同一事项内不重复（申请件按它对应材料）。"],
        [],
        ["事项类型", *[str(lbl) for _, lbl in ItemType.choices]],
        ["行使层级", *[str(lbl) for _, lbl in ItemLevel.choices]],
        ["材料形式", *[str(lbl) for _, lbl in MaterialForm.choices]],
        ["人生事件", *[str(lbl) for _, lbl in LifeEvent.choices]],
        [],
        ["部门代码", "部门名称"],
    ]
    lines += [[code, name] for code, name in sorted(departments.items())]
    return lines


# ---------------------------------------------------------------------------------------
# import


def parse_file(name: str, data: bytes) -> Parsed:
    """By the file's name: .xlsx is a workbook, anything else is JSON."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        return parse_xlsx(data)
    return parse_json(data)


def parse_json(data: bytes) -> Parsed:
    parsed = Parsed()
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        parsed.errors.append(RowError(-1, "file", f"不是有效的 JSON 文件：{e}"))
        return parsed
    items = doc.get("items") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and doc.get("format") not in (None, FORMAT):
        parsed.errors.append(RowError(-1, "format", f"不是服务事项目录文件（{doc.get('format')}）"))
        return parsed
    if not isinstance(items, list):
        parsed.errors.append(RowError(-1, "items", "应为事项列表"))
        return parsed
    parsed.rows = items
    parsed.sources = [{"row": i + 1} for i in range(len(items))]
    return parsed


def _choice_value(choices: type, value: Any) -> Any:
    """A code or a Chinese label → the code (anything else is left for clean_item)."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    by_label = {str(lbl): code for code, lbl in choices.choices}  # type: ignore[attr-defined]
    return by_label.get(value, value)


def _cell(name: str, value: Any) -> Any:
    """A cell as the exchange format's value. What cannot be read is passed through as it
    is, so that clean_item names the field."""
    if isinstance(value, str):
        value = value.strip()
    if name in INT_FIELDS:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\d+", value):
            return int(value)
        return value
    if name in BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value) if value in (0, 1) else value
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.lower() in YES:
            return True
        if isinstance(value, str) and value.lower() in NO:
            return False
        return value
    if name in CHOICES:
        return _choice_value(CHOICES[name], value)
    if name in ("aliases", "events"):
        parts = [p.strip() for p in LIST_SEPARATORS.split(str(value or "")) if p.strip()]
        return [_choice_value(LifeEvent, p) for p in parts] if name == "events" else parts
    if name == "steps":
        return [p.strip() for p in str(value or "").splitlines() if p.strip()]
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _sheet_rows(ws: Any, columns: tuple[tuple[str, str], ...],
                parsed: Parsed) -> list[tuple[int, dict[str, Any]]]:
    """(row number, {field: raw value}) of a sheet's non-empty rows, columns by header."""
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    known = {h: f for h, f in columns} | {f: f for _, f in columns}
    index = {known[str(h).strip()]: i for i, h in enumerate(header)
             if h is not None and str(h).strip() in known}
    missing = [h for h, f in columns if f not in index and f == "code"]
    if missing:
        parsed.errors.append(RowError(-1, f"「{ws.title}」表", f"缺少「{missing[0]}」列"))
        return []
    out = []
    for n, values in enumerate(rows, start=2):
        if values is None or all(v is None or (isinstance(v, str) and not v.strip())
                                 for v in values):
            continue
        out.append((n, {f: values[i] if i < len(values) else None for f, i in index.items()}))
    return out


def parse_xlsx(data: bytes) -> Parsed:
    parsed = Parsed(workbook=True)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a bad file
        parsed.errors.append(RowError(-1, "file", f"不是有效的 XLSX 工作簿：{type(e).__name__}"))
        return parsed
    if ITEMS_SHEET not in wb.sheetnames:
        parsed.errors.append(RowError(-1, "file", f"工作簿缺少「{ITEMS_SHEET}」表"))
        return parsed
    by_code: dict[str, int] = {}
    for n, raw in _sheet_rows(wb[ITEMS_SHEET], ITEM_COLUMNS, parsed):
        row = {f: _cell(f, v) for f, v in raw.items()}
        row["materials"], row["faq"] = [], []
        code = row.get("code")
        if isinstance(code, str) and code and code not in by_code:
            by_code[code] = len(parsed.rows)
        parsed.rows.append(row)
        parsed.sources.append({"row": n, "materials": [], "faq": []})
    for sheet, columns, key in ((MATERIALS_SHEET, MATERIAL_COLUMNS, "materials"),
                                (FAQ_SHEET, FAQ_COLUMNS, "faq")):
        if sheet not in wb.sheetnames:
            continue
        for n, raw in _sheet_rows(wb[sheet], columns, parsed):
            code = _cell("code", raw.pop("code", None))
            i = by_code.get(code) if isinstance(code, str) else None
            if i is None:
                parsed.errors.append(RowError(-1, f"「{sheet}」表第{n}行 事项编码",
                                              f"「{ITEMS_SHEET}」表中没有事项编码 {code}"))
                continue
            entry = {f: _cell(f, v) for f, v in raw.items()}
            if key == "materials":
                entry = {f: entry[f] for f in MATERIAL_FIELDS if f in entry}
            parsed.rows[i][key].append(entry)
            parsed.sources[i][key].append(n)
    wb.close()
    return parsed


def keep_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The exchange format's keys only, in order (for comparing what was read)."""
    return {k: row[k] for k in FIELDS if k in row}
