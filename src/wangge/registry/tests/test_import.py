"""Bulk import: every row validated, an error report of (row, column, reason), all-or-nothing
or valid-rows-only, and re-import that changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from wangge.registry.identity import make_id_number
from wangge.registry.models import Building, House, Household, RegistryChange, Resident
from wangge.registry.queries import search_residents
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

R_HEADER = ["姓名", "身份证号", "联系电话", "民族", "人口类型", "楼栋编号", "房号", "户号",
            "与户主关系", "迁入日期"]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def run(path: Path, kind: str, mode: str = "all", **kw) -> tuple[str, list[list[str]]]:
    out, err = io.StringIO(), io.StringIO()
    errors = path.with_suffix(".err.csv")
    try:
        call_command("registry", "import", str(path), "--kind", kind, "--mode", mode,
                     "--errors", str(errors), stdout=out, stderr=err, **kw)
    except CommandError as e:
        out.write(f"\nERROR {e}")
    report = []
    if errors.exists():
        with errors.open(encoding="utf-8-sig") as fh:
            report = list(csv.reader(fh))[1:]
    return out.getvalue(), report


@pytest.fixture
def place(tmp_path: Path):
    g1 = Grid.objects.get(name="胜利社区第1网格")
    g2 = Grid.objects.get(name="胜利社区第2网格")
    b_header = ["楼栋编号", "名称", "地址", "经度", "纬度", "层数", "用途"]
    run(write_csv(tmp_path / "b.csv", b_header, [
        ["B1", "胜利小区1栋", "胜利路1号", g1.label_lng, g1.label_lat, 6, "住宅"],
        ["B2", "胜利小区2栋", "胜利路2号", g2.label_lng, g2.label_lat, 6, "residential"],
    ]), "buildings")
    run(write_csv(tmp_path / "h.csv", ["楼栋编号", "房号", "面积", "用途"], [
        ["B1", "1-101", "88.5", "自住"], ["B1", "1-102", "90", "出租"],
        ["B2", "2-201", "75.25", "self_occupied"],
    ]), "houses")
    return g1, g2


def ids(n: int) -> list[str]:
    return [make_id_number("430211", dt.date(1970 + i, 3, 4), i, "female") for i in range(n)]


def mixed_rows() -> list[list[object]]:
    a, b, c = ids(3)
    bad_check = a[:-1] + ("0" if a[-1] != "0" else "1")
    return [
        ["张一", a, "17090000011", "汉族", "户籍人口", "B1", "1-101", "H1", "户主", "2020-01-01"],
        ["张二", b, "17090000012", "汉族", "户籍人口", "B1", "1-101", "H1", "配偶", ""],
        ["张三", c, "", "瑶族", "流动人口", "B2", "2-201", "", "", ""],
        ["坏校验", bad_check, "", "汉族", "户籍人口", "B1", "1-102", "", "", ""],     # row 5
        ["坏日期", "430211197002300011", "", "汉族", "户籍人口", "B1", "1-102", "", "", ""],
        ["重复", a, "", "汉族", "户籍人口", "B1", "1-102", "", "", ""],             # row 7
        ["", ids(4)[3], "", "汉族", "户籍人口", "B1", "1-102", "", "", ""],          # row 8
        ["无房", make_id_number("430211", dt.date(1990, 1, 1), 7, "male"), "", "汉族",
         "户籍人口", "B9", "9-901", "", "", ""],                                    # row 9
    ]


def test_buildings_and_houses_import_with_grids_from_location(place) -> None:
    g1, g2 = place
    assert Building.objects.get(code="B1").grid == g1
    assert House.objects.get(building__code="B2", number="2-201").grid == g2


def test_all_or_nothing_reports_every_bad_row_and_imports_nothing(place, tmp_path) -> None:
    before = Resident.objects.count()
    out, report = run(write_csv(tmp_path / "r.csv", R_HEADER, mixed_rows()), "residents")
    assert "nothing was imported" in out
    assert Resident.objects.count() == before
    assert not Household.objects.filter(number="H1").exists()
    got = {(int(r), col): why for r, col, why in report}
    assert "check character" in got[(5, "身份证号")]
    assert "date" in got[(6, "身份证号")]
    assert "duplicate of row 2" in got[(7, "身份证号")]
    assert got[(8, "姓名")] == "required"
    assert "no house" in got[(9, "房号")]
    assert {r for r, _c in got} == {5, 6, 7, 8, 9}


def test_valid_mode_imports_exactly_the_good_rows_and_reimport_changes_nothing(
    place, tmp_path
) -> None:
    path = write_csv(tmp_path / "r.csv", R_HEADER, mixed_rows())
    out, _report = run(path, "residents", mode="valid")
    assert "3 created, 0 updated, 0 unchanged, 5 with errors" in out
    h1 = Household.objects.get(number="H1")
    assert set(h1.members.values_list("name", flat=True)) == {"张一", "张二"}
    assert Resident.objects.get(name="张三").residence_type == "floating"
    history = RegistryChange.objects.count()
    out, _ = run(path, "residents", mode="valid")
    assert "0 created, 0 updated, 3 unchanged" in out
    assert RegistryChange.objects.count() == history


def test_a_known_id_number_updates_never_duplicates(place, tmp_path) -> None:
    rows = mixed_rows()[:3]
    run(write_csv(tmp_path / "r.csv", R_HEADER, rows), "residents")
    rows[0][2] = "17090000099"  # new phone
    rows[2][4] = "户籍人口"
    out, _ = run(write_csv(tmp_path / "r2.csv", R_HEADER, rows), "residents")
    assert "0 created, 2 updated, 1 unchanged" in out
    zhang = Resident.objects.get(name="张一")
    assert zhang.phone_masked == "170****0099"
    assert Resident.objects.filter(name__in=["张一", "张二", "张三"]).count() == 3
    change = RegistryChange.objects.filter(object_id=zhang.pk, action="update").get()
    assert change.changes["phone_masked"] == ["170****0011", "170****0099"]
    admin = get_user_model().objects.get(username="admin")
    assert list(search_residents(admin, phone="17090000099")) == [zhang]
    assert list(search_residents(admin, phone="17090000011")) == []


def test_xlsx_with_numeric_cells(place, tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["楼栋编号", "房号", "面积", "用途"])
    ws.append(["B1", 301, 66.0, "空置"])  # Excel makes 301 a number
    wb.save(tmp_path / "h.xlsx")
    _out, report = run(tmp_path / "h.xlsx", "houses")
    assert report == [] and House.objects.filter(building__code="B1", number="301").exists()


def test_a_missing_column_is_reported_before_any_row(place, tmp_path) -> None:
    _out, report = run(write_csv(tmp_path / "r.csv", ["姓名", "联系电话"], [["某", ""]]),
                      "residents")
    assert ["1", "身份证号", "column is missing"] in report


def test_import_as_a_grid_worker_stops_at_their_grid(place, tmp_path) -> None:
    rows = mixed_rows()[:3]  # 张三 lives in 胜利社区第2网格
    out, report = run(write_csv(tmp_path / "r.csv", R_HEADER, rows), "residents",
                      mode="valid", user="gridworker")
    assert "2 created" in out
    assert [r[0] for r in report] == ["4"] and "outside" in report[0][2]
    assert RegistryChange.objects.filter(actor__username="gridworker",
                                         source="import").count() == 2


def test_buildings_outside_the_territory_or_incomplete_are_reported(place, tmp_path) -> None:
    g1 = place[0]
    header = ["楼栋编号", "名称", "地址", "经度", "纬度", "层数", "用途"]
    out, report = run(write_csv(tmp_path / "b2.csv", header, [
        ["B3", "好楼", "胜利路3号", g1.label_lng, g1.label_lat, 5, "住宅"],
        ["B4", "远楼", "北京", 116.4, 39.9, 5, "住宅"],                # no grid there
        ["B5", "", "胜利路5号", g1.label_lng, g1.label_lat, 5, "住宅"],  # empty name
        ["B6", "怪楼", "胜利路6号", "east", g1.label_lat, 0, "城堡"],
    ]), "buildings", mode="valid")
    got = {(int(r), col): why for r, col, why in report}
    assert "outside the territory" in got[(3, "纬度")]
    assert got[(4, "名称")] == "required"
    assert {(5, "经度"), (5, "层数"), (5, "用途")} <= set(got)
    assert "1 created" in out and Building.objects.filter(code="B3").exists()
    assert not Building.objects.filter(code__in=["B4", "B5", "B6"]).exists()
