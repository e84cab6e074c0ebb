"""`wangge calendar import FILE`: a city enters next year's schedule the day it is
published; all or nothing, every bad row named with its field; every process sees it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from wangge.core.models import AuditEntry
from wangge.integration.models import OutboxMessage
from wangge.workcal import calendar
from wangge.workcal.actions import do_import_calendar, do_set_day, do_set_year
from wangge.workcal.deadlines import SHANGHAI, CalendarNotCovered
from wangge.workcal.models import CalendarDay, CalendarState, CalendarYear
from wangge.workcal.validation import WorkcalError

pytestmark = pytest.mark.django_db

# A made-up 2027 schedule in the import format (test data, not the State Council's).
SCHEDULE_2027 = """date,is_workday,name
2027-01-01,0,元旦
2027-02-06,0,春节
2027-02-07,0,春节
2027-02-08,0,春节
2027-02-09,0,春节
2027-02-10,0,春节
2027-02-11,0,春节
2027-02-12,0,春节
2027-02-13,0,春节
2027-02-20,1,春节
"""


def write(tmp_path: Path, text: str, name: str = "2027.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_importing_next_year_makes_its_deadlines_computable(tmp_path: Path) -> None:
    moment = dt.datetime(2026, 12, 28, 10, tzinfo=SHANGHAI)
    with pytest.raises(CalendarNotCovered, match="2027"):
        calendar.current().add_working_days(moment, 7)
    audits, outbox = AuditEntry.objects.count(), OutboxMessage.objects.count()
    out, _ = run("calendar", "import", str(write(tmp_path, SCHEDULE_2027)),
                 "--note", "国办发明电〔2026〕X号")
    assert "imported 10 days" in out and "2027" in out
    year = CalendarYear.objects.get(year=2027)
    assert (year.covered, year.source, year.note) == (True, "import", "国办发明电〔2026〕X号")
    # Dec 29, 30, 31, then Jan 1 is off: Jan 4, 5, 6, 7
    assert calendar.current().add_working_days(moment, 7) == dt.datetime(
        2027, 1, 8, tzinfo=SHANGHAI)
    assert AuditEntry.objects.count() == audits + 1
    assert OutboxMessage.objects.filter(topic="workcal.calendar_changed").count() >= 1
    assert OutboxMessage.objects.count() == outbox + 1


def test_a_bad_file_names_each_row_and_field_and_writes_nothing(tmp_path: Path) -> None:
    text = SCHEDULE_2027 + ("2027-13-01,0,元旦\n"  # row 12: no such date
                            "2027-03-03,1,春节\n"  # row 13: a Wednesday cannot be made up
                            "2027-05-01,0,\n"  # row 14: no name
                            "2027-05-02,maybe,劳动节\n"  # row 15
                            "2027-01-01,0,元旦\n")  # row 16: twice
    stamp = CalendarState.objects.get(pk=1).stamp
    err = io.StringIO()
    with pytest.raises(CommandError, match="5 problem"):
        call_command("calendar", "import", str(write(tmp_path, text)), stderr=err)
    lines = err.getvalue()
    assert "row 12, date: '2027-13-01' is not a date" in lines
    assert "row 13, is_workday: 2027-03-03 is a weekday" in lines
    assert "row 14, name: " in lines
    assert "row 15, is_workday: 'maybe'" in lines
    assert "row 16, date: 2027-01-01 is already on row 2" in lines
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert CalendarState.objects.get(pk=1).stamp == stamp


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(WorkcalError) as e:
        do_import_calendar([{"date": "2027-01-01", "name": "元旦"}])
    assert str(e.value.problems[0]) == "row 2, is_workday: column missing"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("calendar", "import", str(write(tmp_path, "date,name\n2027-01-01,元旦\n")),
                     stderr=err)
    assert "row 2, is_workday: column missing" in err.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("calendar", "import", str(tmp_path / "missing.csv"))


def test_a_year_in_the_file_is_replaced_whole(tmp_path: Path) -> None:
    exported, _ = run("calendar", "export", "2026")
    assert exported.startswith("date,is_workday,name\n2026-01-01,0,元旦\n")
    without_oct_10 = "".join(line for line in exported.splitlines(keepends=True)
                             if not line.startswith("2026-10-10"))
    run("calendar", "import", str(write(tmp_path, without_oct_10, "2026.csv")))
    assert not CalendarDay.objects.filter(date=dt.date(2026, 10, 10)).exists()
    assert not calendar.current().is_workday(dt.date(2026, 10, 10))
    assert CalendarYear.objects.get(year=2026).source == "import"
    run("calendar", "import", str(write(tmp_path, exported, "again.csv")))  # round trip
    assert calendar.current().is_workday(dt.date(2026, 10, 10))
    assert run("calendar", "export", "2026")[0] == exported


def test_spreadsheet_words_and_a_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffdate,is_workday,name\n2027-01-01,休,元旦\n2027-01-02,否,元旦\n"
                     "2027-02-20,班,春节\n".encode())
    run("calendar", "import", str(path))
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("kind", flat=True)) == [
        "holiday", "holiday", "makeup"]


def test_every_process_rebuilds_after_a_change() -> None:
    before = calendar.current()
    assert calendar.current() is before  # cached while the stamp is the same
    do_set_day(dt.date(2026, 12, 31), kind="holiday", name="测试")
    after = calendar.current()
    assert after is not before and not after.is_workday(dt.date(2026, 12, 31))
    do_set_day(dt.date(2026, 12, 31), kind="normal")
    assert calendar.current().is_workday(dt.date(2026, 12, 31))


def test_a_year_entered_by_hand_counts_only_once_marked_covered() -> None:
    do_set_day(dt.date(2027, 1, 1), kind="holiday", name="元旦")
    assert CalendarYear.objects.get(year=2027).covered is False
    with pytest.raises(CalendarNotCovered, match="2027"):
        calendar.current().is_workday(dt.date(2027, 1, 4))
    do_set_year(2027, covered=True, note="手工录入")
    assert calendar.current().is_workday(dt.date(2027, 1, 4))
    assert not calendar.current().is_workday(dt.date(2027, 1, 1))


def test_single_day_rules() -> None:
    with pytest.raises(WorkcalError, match="is_workday"):
        do_set_day(dt.date(2026, 12, 30), kind="makeup", name="元旦")  # a Wednesday
    with pytest.raises(WorkcalError, match="name"):
        do_set_day(dt.date(2026, 12, 30), kind="holiday")
    with pytest.raises(WorkcalError, match="kind"):
        do_set_day(dt.date(2026, 12, 30), kind="party", name="x")


def test_seeding_from_the_package_keeps_a_citys_edits() -> None:
    from wangge.workcal.actions import do_seed_calendar_from_package

    do_set_day(dt.date(2026, 12, 31), kind="holiday", name="本地")
    assert do_seed_calendar_from_package() == []  # every package year is present
    assert CalendarDay.objects.filter(date=dt.date(2026, 12, 31)).exists()
    assert do_seed_calendar_from_package([2026], replace=True) == [2026]
    assert not CalendarDay.objects.filter(date=dt.date(2026, 12, 31)).exists()
    with pytest.raises(WorkcalError, match="2099"):
        do_seed_calendar_from_package([2099])
