"""Open data (/open-data/): anyone may download the case CSV; it never holds a confidential
case, a rejected or merged one, a person's data, or a phone typed into the closeout reason;
its columns are exactly the documented ones; bad from/to are 400 naming the field. Cases
are moved into 2031, a year the demo never reaches, so the file holds only what the test
wrote."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.analytics import opendata
from wangge.analytics.views_opendata import SpanError, parse_span
from wangge.cases.access import listed_public_cases
from wangge.cases.models import Case

pytestmark = pytest.mark.django_db

URL = "/open-data/cases.csv"
DAY = dt.datetime(2031, 3, 10, 9, 30, tzinfo=dt.UTC)
SPAN = {"from": "2031-03-01", "to": "2031-03-31"}


def download(client: Client, params: dict[str, str]) -> list[dict[str, str]]:
    resp = client.get(URL, params)
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"].startswith("text/csv")
    body = b"".join(resp.streaming_content)
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8")[1:]
    reader = csv.reader(io.StringIO(text))
    headers = next(reader)
    assert headers == opendata.HEADERS
    return [dict(zip(headers, row, strict=True)) for row in reader]


def listed(n: int) -> list[Case]:
    cases = list(listed_public_cases().filter(lat__isnull=False).exclude(state="rejected")
                 .filter(merged_into__isnull=True).order_by("pk")[:n])
    assert len(cases) == n
    return cases


def move(case: Case, **fields: object) -> None:
    Case.objects.filter(pk=case.pk).update(created_at=DAY, **fields)


def test_columns_are_exactly_the_documented_ones() -> None:
    doc = (Path(__file__).resolve().parents[4] / "docs" / "analytics.md").read_text()
    for column in opendata.COLUMNS:
        assert f"`{column.name}`" in doc
    assert opendata.HEADERS == [
        "unique_key", "created_date", "closed_date", "agency", "complaint_type", "descriptor",
        "location_type", "status", "resolution_description", "grid_code", "community_code",
        "town_code", "latitude", "longitude"]


def test_a_row_says_what_the_case_says_without_personal_data() -> None:
    (case,) = listed(1)
    move(case, closeout_reason="已修复，联系人电话13812345678，身份证430281199001011234",
         lat=27.6543219, lng=113.4987654)
    rows = download(Client(), SPAN)
    assert [r["unique_key"] for r in rows] == [case.register_no]
    row = rows[0]
    case = Case.objects.select_related("category__parent", "department", "grid").get(pk=case.pk)
    assert row["created_date"] == "2031-03-10 17:30:00"  # Asia/Shanghai
    assert row["descriptor"] == case.category.name
    assert row["complaint_type"] == case.category.parent.name
    assert row["agency"] == (case.department.name if case.department else "")
    assert row["latitude"] == "27.654" and row["longitude"] == "113.499"
    assert "13812345678" not in row["resolution_description"]
    assert "138****5678" in row["resolution_description"]
    assert "430281199001011234" not in row["resolution_description"]
    assert row["grid_code"] == case.grid.code
    assert row["community_code"] == case.grid.parent.code
    assert row["town_code"] == case.grid.parent.parent.code
    for secret in (case.title, case.description, case.follow_code):
        if secret:
            assert secret not in "".join(row.values())


def test_confidential_rejected_and_merged_cases_never_appear() -> None:
    shown, secret, rejected, merged = listed(4)
    move(shown)
    move(secret, confidential=True, closeout_reason="涉密销号 13900001111")
    move(rejected, state="rejected")
    move(merged, merged_into=shown)
    body = b"".join(Client().get(URL, SPAN).streaming_content).decode()
    assert shown.register_no in body
    for hidden in (secret, rejected, merged):
        assert hidden.register_no not in body
    assert "13900001111" not in body and "139****1111" not in body


def test_a_resident_own_trouble_is_not_listed() -> None:
    private = Case.objects.filter(category__code="1306").order_by("pk").first()  # 邻里纠纷
    assert private is not None, "the demo city must hold a neighbour dispute for this test"
    move(private)
    body = b"".join(Client().get(URL, SPAN).streaming_content).decode()
    assert private.register_no not in body


def test_the_default_span_is_the_last_twelve_months() -> None:
    (case,) = listed(1)
    Case.objects.filter(pk=case.pk).update(created_at=dt.datetime.now(dt.UTC)
                                           - dt.timedelta(days=2))
    rows = download(Client(), {})
    assert case.register_no in {r["unique_key"] for r in rows}


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2031-13-01"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2031-02-30"}, "to"),
    ({"from": "2031-03-10", "to": "2031-03-01"}, "to"),
    ({"from": "2026-01-01", "to": "2029-06-01"}, "to"),
    ({"from": "2001-01-01"}, "from"),
])
def test_bad_spans_are_400_naming_the_field(params: dict[str, str], field: str) -> None:
    resp = Client().get(URL, params)
    assert resp.status_code == 400
    assert resp.json()["detail"][0]["loc"] == ["query", field]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(since=st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)),
       days=st.integers(0, 2000))
def test_spans_up_to_three_years_pass_and_longer_fail(since: dt.date, days: int) -> None:
    until = since + dt.timedelta(days=days)
    params = {"from": since.isoformat(), "to": until.isoformat()}
    if days + 1 <= opendata.MAX_SPAN_DAYS:
        assert parse_span(params, dt.date(2031, 1, 1)) == (since, until)
    else:
        with pytest.raises(SpanError) as e:
            parse_span(params, dt.date(2031, 1, 1))
        assert e.value.field == "to"


def test_the_page_is_public_and_lists_the_columns() -> None:
    resp = Client().get("/open-data/")
    assert resp.status_code == 200
    page = resp.content.decode()
    for column in opendata.COLUMNS:
        assert column.name in page
    assert "CC BY 4.0" in page
    assert 'name="from"' in page and 'name="to"' in page
