"""The catalogue as a file: JSON and XLSX exports read back to the same items, and a bad
cell is reported with its sheet and row."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from wangge.services import exchange
from wangge.services.actions.catalogue import clean_item, do_import_catalogue
from wangge.services.models import ItemLevel, ItemType, LifeEvent, MaterialForm, ServiceItem
from wangge.services.tests.catalogue_helpers import DEPARTMENTS, item_row, rows

pytestmark = pytest.mark.django_db


def export(codes: list[str], fmt: str) -> bytes:
    found = exchange.catalogue_rows(ServiceItem.objects.filter(code__in=codes))
    return exchange.to_json(found) if fmt == "json" else exchange.to_xlsx(found)


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_round_trip_is_the_identity(fmt: str) -> None:
    batch = rows(12, prefix=f"RT{fmt}")
    assert do_import_catalogue(batch, None).ok
    data = export([r["code"] for r in batch], fmt)
    parsed = exchange.parse_file(f"catalogue.{fmt}", data)
    assert parsed.errors == []
    assert [clean_item(r) for r in parsed.rows] == [clean_item(r) for r in batch]
    again = do_import_catalogue(parsed.rows, None)
    assert again.ok and len(again.unchanged) == 12 and not again.updated


def test_xlsx_is_cells_a_clerk_edits() -> None:
    do_import_catalogue([item_row("XL-1")], None)
    wb = load_workbook(io.BytesIO(export(["XL-1"], "xlsx")))
    assert wb.sheetnames == ["事项", "材料", "常见问题", "说明"]
    head = [c.value for c in wb["事项"][1]]
    row = dict(zip(head, [c.value for c in wb["事项"][2]], strict=True))
    assert row["事项类型"] == "公共服务" and row["俗称"] == "老年证、敬老证"
    assert row["可由网格员代办"] == "是" and row["人生事件"] == "养老"
    assert row["办理流程"].splitlines()[0] == "申请"
    assert row["实施部门（仅供阅读）"] == "民政局"
    materials = [[c.value for c in r] for r in wb["材料"].iter_rows(min_row=2)]
    assert materials[0][:6] == ["XL-1", "id_card", "居民身份证", "原件", 1, "是"]


def test_xlsx_formula_text_stays_text() -> None:
    do_import_catalogue([item_row("XL-2", conditions="=HYPERLINK(\"http://x\")")], None)
    wb = load_workbook(io.BytesIO(export(["XL-2"], "xlsx")))
    cell = wb["事项"]["H2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_xlsx_errors_name_sheet_and_row_and_nothing_is_written() -> None:
    do_import_catalogue(rows(3, prefix="XE"), None)
    wb = load_workbook(io.BytesIO(export(["XE-0000", "XE-0001", "XE-0002"], "xlsx")))
    for r in wb["事项"].iter_rows(min_row=2):
        r[0].value = r[0].value.replace("XE", "XN")
    for r in wb["材料"].iter_rows(min_row=2):
        r[0].value = r[0].value.replace("XE", "XN")
    for r in wb["常见问题"].iter_rows(min_row=2):
        r[0].value = r[0].value.replace("XE", "XN")
    wb["事项"]["K3"] = 99          # promised_days of the 2nd item (row 3) over legal_days
    wb["材料"]["D6"] = "扫描件"    # the 2nd item's 2nd material: an unknown form
    wb["常见问题"].append(["XN-9999", "问", "答"])
    out = io.BytesIO()
    wb.save(out)
    parsed = exchange.parse_xlsx(out.getvalue())
    assert parsed.messages(parsed.errors) == [
        "「常见问题」表第5行 事项编码：「事项」表中没有事项编码 XN-9999"]
    report = do_import_catalogue(parsed.rows, None)
    assert parsed.messages(report.errors) == [
        "「材料」表第6行 form："
        "应为以下之一：original（原件）、copy（复印件）、electronic（电子件）"]
    parsed.rows[1]["materials"][1]["form"] = "copy"
    report = do_import_catalogue(parsed.rows, None)
    assert parsed.messages(report.errors) == [
        "「事项」表第3行 promised_days：承诺时限不能超过法定时限"]
    assert not ServiceItem.objects.filter(code__startswith="XN-").exists()


def test_xlsx_accepts_codes_labels_blanks_and_reordered_columns() -> None:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "事项"
    ws.append(["事项名称", "事项编码", "事项类型", "实施部门代码", "法定时限（工作日）",
               "承诺时限（工作日）", "可由网格员代办", "人生事件", "备注列"])
    ws.append(["高龄津贴申领", "HL-1", "benefit", "civil-affairs", 20.0, "5", "是",
               "养老、relief", "无关"])
    m = wb.create_sheet("材料")
    m.append(["事项编码", "材料键", "材料名称", "份数"])
    m.append(["HL-1", "id_card", "身份证", None])
    out = io.BytesIO()
    wb.save(out)
    parsed = exchange.parse_xlsx(out.getvalue())
    assert parsed.errors == []
    c = clean_item(parsed.rows[0])
    assert (c["type"], c["legal_days"], c["promised_days"], c["proxy_eligible"]) == (
        "benefit", 20, 5, True)
    assert c["events"] == ["elderly", "relief"]
    assert c["materials"] == [{"key": "id_card", "name": "身份证", "form": "copy", "count": 1,
                               "required": True, "condition": "", "note": ""}]


def test_json_errors_name_the_item() -> None:
    parsed = exchange.parse_json(json.dumps({"items": [item_row("J-1"),
                                                       item_row("J-2", level="nation")]})
                                 .encode())
    report = do_import_catalogue(parsed.rows, None)
    assert parsed.messages(report.errors)[0].startswith("第2项 level：")
    bad = exchange.parse_json(b"{not json")
    assert bad.errors and bad.errors[0].field == "file"
    other = exchange.parse_json(b'{"format": "something.else", "items": []}')
    assert other.errors[0].field == "format"


def test_a_broken_workbook_is_an_error_not_a_crash() -> None:
    parsed = exchange.parse_xlsx(b"PK\x03\x04 not really a zip")
    assert parsed.errors[0].field == "file" and parsed.rows == []


# --- generated items ----------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PLAIN = st.one_of(CJK, st.sampled_from("abcXYZ0123456789 （）()《》-=/:：。.'\"<>&"))
line = st.text(PLAIN, min_size=1, max_size=30).filter(lambda s: s.strip() != "")
para = st.lists(line, min_size=0, max_size=3).map("\n".join)
alias = st.text(st.one_of(CJK, st.sampled_from("abc123")), min_size=1, max_size=8)
codes = itertools.count()


@st.composite
def generated(draw: st.DrawFn) -> dict[str, Any]:
    legal = draw(st.integers(0, 60))
    keys = draw(st.lists(st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True), max_size=5,
                         unique=True))
    return {
        "code": f"HY-{next(codes):05d}", "name": draw(line), "aliases": draw(
            st.lists(alias, max_size=4, unique=True)),
        "type": draw(st.sampled_from(ItemType.values)),
        "department": draw(st.sampled_from(DEPARTMENTS)),
        "level": draw(st.sampled_from(ItemLevel.values)), "legal_basis": draw(para),
        "conditions": draw(para),
        "materials": [{"key": k, "name": draw(line),
                       "form": draw(st.sampled_from(MaterialForm.values)),
                       "count": draw(st.integers(1, 99)), "required": draw(st.booleans()),
                       "condition": draw(st.one_of(st.just(""), line)),
                       "note": draw(st.one_of(st.just(""), line))} for k in keys],
        "steps": draw(st.lists(line, max_size=5)), "legal_days": legal,
        "promised_days": draw(st.integers(0, legal)), "fee": draw(line),
        "place": draw(st.one_of(st.just(""), line)), "hours": draw(st.just("") | line),
        "phone": draw(st.from_regex(r"[0-9-]{0,20}", fullmatch=True)),
        "in_person_times": draw(st.integers(0, 1)), "online_prereview": draw(st.booleans()),
        "prereview_days": draw(st.integers(1, 30)), "proxy_eligible": draw(st.booleans()),
        "events": draw(st.lists(st.sampled_from(LifeEvent.values), max_size=3, unique=True)),
        "faq": draw(st.lists(st.fixed_dictionaries({"q": line, "a": para.filter(
            lambda s: s.strip() != "")}), max_size=3)),
    }


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(generated(), min_size=1, max_size=4))
def test_generated_items_survive_both_formats(items: list[dict[str, Any]]) -> None:
    expected = [clean_item(r) for r in items]
    report = do_import_catalogue(items, None)
    assert report.ok, report.errors
    codes_ = [r["code"] for r in items]
    for fmt in ("json", "xlsx"):
        parsed = exchange.parse_file(f"f.{fmt}", export(codes_, fmt))
        assert parsed.errors == []
        assert [clean_item(r) for r in parsed.rows] == expected, fmt
        assert len(do_import_catalogue(parsed.rows, None).unchanged) == len(items)


# --- the command ----------------------------------------------------------------------------


def test_command_export_then_import(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import CommandError, call_command

    do_import_catalogue(rows(2, prefix="CMD"), None)
    out = tmp_path / "catalogue.xlsx"
    buf = io.StringIO()
    call_command("services", "export", "-o", str(out), stdout=buf)
    assert "item(s) (xlsx)" in buf.getvalue()
    buf = io.StringIO()
    call_command("services", "import", str(out), "--user", "center_admin", stdout=buf)
    assert "0 created, 0 updated (published)" in buf.getvalue()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([item_row("CMD-X", type="nope")]), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("services", "import", str(bad), stderr=err)
    assert "第1项 type：" in err.getvalue()
    assert not ServiceItem.objects.filter(code="CMD-X").exists()
    with pytest.raises(CommandError, match="no such user"):
        call_command("services", "import", str(out), "--user", "nobody")
