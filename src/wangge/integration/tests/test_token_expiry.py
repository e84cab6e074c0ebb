"""API tokens may carry an expiry (`wangge tokens create --expires 90d`): past it, the token
is refused like a revoked one, and `tokens list` says so."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from wangge.integration.models import ApiToken
from wangge.integration.tokens import expiry

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)


def create_token(*args: str) -> str:
    out = io.StringIO()
    call_command("tokens", "create", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def listing() -> str:
    out = io.StringIO()
    call_command("tokens", "list", stdout=out)
    return out.getvalue()


def test_a_token_with_an_expiry_works_until_then_and_not_after() -> None:
    token = create_token("--user", "dispatcher", "--expires", "90d", "--label", "expiring")
    row = ApiToken.objects.get(label="expiring")
    assert dt.timedelta(days=89) < row.expires_at - timezone.now() <= dt.timedelta(days=90)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/me").status_code == 200
    line = next(x for x in listing().splitlines() if x.startswith(row.prefix))
    assert "\tactive\t" in line and "expires 20" in line

    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/me").status_code == 401
    line = next(x for x in listing().splitlines() if x.startswith(row.prefix))
    assert "\texpired\t" in line


def test_without_expiry_the_list_says_so() -> None:
    create_token("--user", "gridworker", "--label", "forever")
    prefix = ApiToken.objects.get(label="forever").prefix
    line = next(x for x in listing().splitlines() if x.startswith(prefix))
    assert "no expiry" in line


@pytest.mark.parametrize("bad", ["soon", "0d", "90", "-3d", "2026-13-01", "90y", "9999-12-31"])
def test_a_bad_expiry_is_a_clear_error_and_makes_no_token(bad: str) -> None:
    before = ApiToken.objects.count()
    with pytest.raises(CommandError, match="--expires"):
        create_token("--user", "gridworker", "--expires", bad)
    assert ApiToken.objects.count() == before


def test_a_date_in_the_past_is_refused() -> None:
    with pytest.raises(CommandError, match="--expires: 2020-01-01 lies in the past"):
        create_token("--user", "gridworker", "--expires", "2020-01-01")


def test_a_date_means_the_end_of_that_day_in_shanghai() -> None:
    assert expiry("2027-03-31", NOW) == dt.datetime(2027, 3, 31, 16, 0, tzinfo=dt.UTC)


@given(st.integers(1, 99_999), st.sampled_from(["d", "h"]))
def test_lifetimes_add_to_now(count: int, unit: str) -> None:
    step = dt.timedelta(days=1) if unit == "d" else dt.timedelta(hours=1)
    assert expiry(f"{count}{unit}", NOW) == NOW + count * step
