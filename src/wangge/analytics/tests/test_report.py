"""The monthly evaluation report (考核通报): the worker's job makes exactly one report per
month and root grid on the first working day; the PDF parses and names the month and the
departments; late and reworked lists never list a confidential case (its count only); the
printable page prints report.py's numbers; who may see which grid's report.

Hand-built cases are moved into 2021, before the demo's first year; the demo's own
figures (its last month is November 2026) feed the PDF and page tests."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from wangge.analytics import report as rpt
from wangge.analytics.access import analytics_scope
from wangge.analytics.actions_report import ReportExists, do_generate_report
from wangge.analytics.jobs_report import first_workday, monthly_report
from wangge.analytics.models import EvaluationReport
from wangge.analytics.views_report import page_context
from wangge.cases.models import Case, CaseClock, CaseEvent
from wangge.core.models import AuditEntry
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))
DEMO_MONTH = dt.date(2026, 11, 1)
HAND_MONTH = dt.date(2021, 3, 1)
LIST = "/console/analytics/reports/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def root() -> Grid:
    return Grid.objects.filter(parent__isnull=True).order_by("code").first()


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


# -- the job ----------------------------------------------------------------------------

def test_the_job_makes_one_report_on_the_first_working_day() -> None:
    first, covered = first_workday(dt.date(2026, 12, 1))
    assert covered and first == dt.date(2026, 12, 1)  # a Tuesday
    roots = Grid.objects.filter(parent__isnull=True).count()

    result = monthly_report(at(first, 8))
    assert "generated" in result
    assert EvaluationReport.objects.filter(month=DEMO_MONTH).count() == roots
    monthly_report(at(first, 9))  # the next run, or another worker
    monthly_report(at(first + dt.timedelta(days=1)))  # the day after
    assert EvaluationReport.objects.filter(month=DEMO_MONTH).count() == roots
    assert "up to date" in monthly_report(at(first + dt.timedelta(days=1), 10))
    assert EvaluationReport.objects.count() == roots
    assert row_is_november(result)


def row_is_november(result: str) -> bool:
    return result.startswith("2026-11:")


def test_before_the_first_working_day_the_job_waits() -> None:
    # 1 November 2026 is a Sunday: the first working day is Monday the 2nd
    first, _covered = first_workday(dt.date(2026, 11, 1))
    assert first == dt.date(2026, 11, 2)
    assert monthly_report(at(dt.date(2026, 11, 1), 10)).startswith("waiting for 2026-11-02")
    assert not EvaluationReport.objects.exists()


def test_a_year_the_calendar_lacks_falls_back_to_monday_to_friday() -> None:
    # 1 January 2040 is a Sunday; the calendar does not cover 2040
    first, covered = first_workday(dt.date(2040, 1, 1))
    assert (first, covered) == (dt.date(2040, 1, 2), False)
    result = monthly_report(at(dt.date(2040, 1, 2)))
    assert "Monday–Friday" in result and "2039-12" in result
    assert EvaluationReport.objects.filter(month=dt.date(2039, 12, 1)).exists()


def test_the_job_skips_a_report_another_worker_stored() -> None:
    grid = root()
    do_generate_report(HAND_MONTH, grid, now=timezone.now())
    with pytest.raises(ReportExists):
        do_generate_report(HAND_MONTH, grid, now=timezone.now(), replace=False)
    assert EvaluationReport.objects.filter(month=HAND_MONTH).count() == 1


# -- the stored report and its PDF ------------------------------------------------------

def test_the_pdf_parses_and_names_the_month_and_a_department() -> None:
    row = do_generate_report(DEMO_MONTH, root(), now=timezone.now())
    data = row.pdf.read()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "2026年11月考核通报" in text and "2026-11" in text
    departments = next(s for s in row.figures["rankings"] if s["dim"] == "department")
    assert departments["red"], "the demo's November has dispatched cases"
    assert departments["red"][0]["label"] in text
    assert "第 1 页" in text
    assert row.figures["month"] == "2026-11"


def test_regenerating_a_month_replaces_it(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    grid = root()
    first = do_generate_report(HAND_MONTH, grid, now=timezone.now())
    old = Path(first.pdf.path)
    assert old.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the old file goes on commit
        second = do_generate_report(HAND_MONTH, grid, now=timezone.now())
    assert EvaluationReport.objects.filter(month=HAND_MONTH, grid=grid).count() == 1
    assert second.pk == first.pk and Path(second.pdf.path).exists()
    assert not old.exists() and old != Path(second.pdf.path)
    audits = AuditEntry.objects.filter(action="analytics.report_generated",
                                       object_id=str(first.pk))
    assert [a.detail["replaced"] for a in audits.order_by("pk")] == [False, True]


# -- late and reworked cases ------------------------------------------------------------

def late_and_reworked(n: int) -> list[Case]:
    """n cases of one town, each late (a handling clock breached on 10 March 2021) and
    reworked (one verify_fail on 12 March 2021)."""
    cases = list(Case.objects.filter(grid__level=4).order_by("pk")[:n])
    for case in cases:
        CaseClock.objects.create(
            case=case, policy="t", code="t-handle", name="处置时限", amount=3, unit="workday",
            goal="handled", started_at=at(dt.date(2021, 3, 5)),
            deadline=at(dt.date(2021, 3, 10)), breached_at=at(dt.date(2021, 3, 10), 10),
            met_at=at(dt.date(2021, 3, 13)))
        event = CaseEvent.objects.create(case=case, action="verify_fail")
        CaseEvent.objects.filter(pk=event.pk).update(at=at(dt.date(2021, 3, 12)))
    return cases


def test_late_and_reworked_lists_never_list_a_confidential_case() -> None:
    shown, secret = late_and_reworked(2)
    Case.objects.filter(pk=secret.pk).update(confidential=True)
    report = rpt.build(analytics_scope(get_user_model().objects.get(username="dispatcher")),
                       HAND_MONTH, root())
    for cases in (report.late, report.reworked):
        assert [c.register_no for c in cases.lines] == [shown.register_no]
        assert cases.total == 2 and cases.confidential == 1
    assert report.late.lines[0].amount == 3  # deadline 10th 09:00 → met 13th 09:00
    assert report.reworked.lines[0].amount == 1
    line = report.late.lines[0]
    shown = Case.objects.select_related("category", "grid").get(pk=shown.pk)
    assert (line.category, line.grid) == (shown.category.name, shown.grid.name)
    page = Client()
    page.force_login(get_user_model().objects.get(username="dispatcher"))
    body = page.get(f"{LIST}2021-03/").content.decode()
    assert shown.register_no in body and secret.register_no not in body
    assert 'data-confidential="1"' in body
    for words in (shown.title, shown.description):
        if words:
            assert html.escape(words) not in body


# -- the page ---------------------------------------------------------------------------

def cells(body: str, code: str) -> dict[str, str]:
    row = re.search(rf'<tr data-metric="{code}">(.*?)</tr>', body, re.S)
    assert row, code
    return {m[0]: html.unescape(m[1]) for m in
            re.findall(r'data-col="(\w+)">([^<]*)</td>', row[1])}


def test_the_printable_page_prints_the_numbers_of_report_py(login_as) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.get(username="dispatcher")
    expected = page_context(rpt.build(analytics_scope(user), DEMO_MONTH, root()))
    resp = login_as("dispatcher").get(f"{LIST}2026-11/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for m in expected["totals"]:
        assert cells(body, m["code"]) == {"value": m["value"], "previous": m["previous"],
                                          "change": m["change"]}
    reported = next(m for m in expected["totals"] if m["code"] == "reported")
    assert reported["value"] != "0"
    for section in expected["sections"]:
        for line in section["red"] + section["black"]:
            assert html.escape(line["label"]) in body
    assert 'data-print' in body and f"{LIST}2026-11/pdf" in body
    assert "<script>" not in body and "onclick" not in body
    assert "@media print" in Path(__file__).resolve().parents[1].joinpath(
        "static", "analytics", "report.css").read_text()


def test_a_stored_report_is_printed_as_it_was_generated(login_as) -> None:  # type: ignore[no-untyped-def]
    row = do_generate_report(HAND_MONTH, root(), now=timezone.now())
    figures = dict(row.figures)
    figures["totals"] = [dict(m) for m in figures["totals"]]
    figures["totals"][0]["value"] = 4321  # what was circulated, whatever the records say
    EvaluationReport.objects.filter(pk=row.pk).update(figures=figures)
    body = login_as("leader").get(f"{LIST}2021-03/").content.decode()
    assert cells(body, figures["totals"][0]["code"])["value"] == "4,321"
    pdf = login_as("leader").get(f"{LIST}2021-03/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    row.pdf.open("rb")
    assert b"".join(pdf.streaming_content) == row.pdf.read()


def test_the_pdf_of_a_month_not_stored_is_made_on_the_fly(login_as) -> None:  # type: ignore[no-untyped-def]
    resp = login_as("dispatcher").get(f"{LIST}2026-11/pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert "2026年11月" in pdf_text(resp.content)
    assert not EvaluationReport.objects.exists()


def test_the_list_shows_stored_months_and_the_current_and_last_month(login_as) -> None:  # type: ignore[no-untyped-def]
    do_generate_report(HAND_MONTH, root(), now=timezone.now())
    body = login_as("dispatcher").get(LIST).content.decode()
    today = timezone.localdate()
    last = (today.replace(day=1) - dt.timedelta(days=1))
    for month in ("2021-03", f"{today:%Y-%m}", f"{last:%Y-%m}"):
        assert f'data-month="{month}"' in body


# -- who sees what ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [LIST, f"{LIST}2026-11/", f"{LIST}2026-11/pdf"])
def test_department_staff_get_403(login_as, path: str) -> None:  # type: ignore[no-untyped-def]
    assert login_as("department").get(path).status_code == 403


def test_anonymous_users_are_sent_to_sign_in() -> None:
    resp = Client().get(f"{LIST}2026-11/")
    assert resp.status_code == 302 and "login" in resp["Location"]


def test_a_subcenter_sees_its_town_and_nothing_above(login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as("subcenter")
    user = get_user_model().objects.get(username="subcenter")
    (town,) = analytics_scope(user).top_grids()
    body = client.get(f"{LIST}2026-11/").content.decode()
    assert f'data-grid="{town.code}"' in body and town.name in body
    assert client.get(f"{LIST}2026-11/", {"grid": town.code}).status_code == 200
    assert client.get(f"{LIST}2026-11/", {"grid": root().code}).status_code == 404
    assert client.get(f"{LIST}2026-11/pdf", {"grid": root().code}).status_code == 404
    assert client.get(LIST, {"grid": "NO-SUCH"}).status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "abcd-ef", "1999-01", "2999-01"])
def test_a_bad_month_is_404(login_as, month: str) -> None:  # type: ignore[no-untyped-def]
    client = login_as("dispatcher")
    assert client.get(f"{LIST}{month}/").status_code == 404
    assert client.get(f"{LIST}{month}/pdf").status_code == 404
