"""Who may report through which channel is decided in the action (check_report), for the API
and the console alike: a claimed channel that is not the user's is a 422 naming `channel`,
and nothing is written."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from wangge.cases.actions.intake import allowed_channels, check_report
from wangge.cases.errors import CaseError
from wangge.cases.models import Case
from wangge.cases.tests.helpers import post
from wangge.org.actions import do_ensure_external_department

pytestmark = pytest.mark.django_db
EVERY = set(Case.Channel.values)
EXTERNAL = Case.Channel.EXTERNAL


def _users(django_user_model) -> dict[str, AbstractBaseUser]:  # type: ignore[no-untyped-def]
    get = django_user_model.objects.get
    return {
        "gridworker": get(username="gridworker"), "dispatcher": get(username="dispatcher"),
        "station": get(username="station"), "department": get(username="department"),
        "admin": get(username="admin"),
        "resident": django_user_model.objects.create(username="test-channel-resident"),
        "system": do_ensure_external_department("hotline-ch", name="12345（测试）").service_user,
    }


EXPECTED = {
    "gridworker": {"grid_worker"},
    "resident": {"resident"},
    "system": {"external"},
    "dispatcher": EVERY - {EXTERNAL},
    "station": EVERY - {EXTERNAL},
    "department": EVERY - {EXTERNAL},
    "admin": EVERY,  # the superuser
}


def test_each_kind_of_user_reports_through_its_channels(django_user_model) -> None:
    users = _users(django_user_model)
    for name, user in users.items():
        assert set(allowed_channels(user)) == EXPECTED[name], name
        for channel in EVERY:
            if channel in EXPECTED[name]:
                check_report(user, channel)
            else:
                with pytest.raises(CaseError) as e:
                    check_report(user, channel)
                assert e.value.field == "channel"


@pytest.mark.parametrize(("who", "channel"), [
    ("gridworker", "walk_in"), ("gridworker", "external"), ("dispatcher", "external"),
    ("resident", "station"), ("system", "grid_worker"),
])
def test_the_api_refuses_a_channel_that_is_not_the_users(django_user_model, spot, who: str,
                                                        channel: str) -> None:
    client = Client()
    client.force_login(_users(django_user_model)[who])
    before = Case.objects.count()
    r = post(client, "/api/v1/cases/", {"category": "0601", "title": "渠道测试",
                                        "lng": spot[0], "lat": spot[1], "channel": channel})
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["loc"][-1] == "channel"
    assert Case.objects.count() == before


def test_the_api_takes_the_channel_that_is_the_users(django_user_model, spot) -> None:
    client = Client()
    client.force_login(_users(django_user_model)["dispatcher"])
    r = post(client, "/api/v1/cases/", {"category": "0601", "title": "来访登记",
                                        "lng": spot[0], "lat": spot[1], "channel": "walk_in"})
    assert r.status_code == 201 and r.json()["channel"] == "walk_in"
