"""GET requests.{json,xml}, requests/{id} and tokens/{token}: every filter, the spec's
defaults (the last 90 days, at most 1,000, newest first), the fields as the public may read
them, and never a confidential case or an internal kind of work."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from wangge.cases.actions import do_transition
from wangge.cases.models import Case, CaseCategory, CaseClock, PublicCategory
from wangge.open311.tests.helpers import SHANGHAI, bulk_cases, resident_case

pytestmark = pytest.mark.django_db

LIST = "/open311/v2/requests.json"


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [r["service_request_id"] for r in response.json()]


def test_a_request_shows_its_public_fields_and_nothing_more(client, light, spot):
    case = resident_case(light.code, spot, description="灯不亮一周了，电话13800001111",
                         extras=None)
    dispatcher = get_user_model().objects.get(username="dispatcher")
    do_transition(case, "register", dispatcher)
    case.refresh_from_db()
    [row] = client.get(f"/open311/v2/requests/{case.register_no}.json").json()
    clock = CaseClock.objects.get(case=case, status="running")
    last = case.events.order_by("-at").first()
    assert row["service_request_id"] == case.register_no
    assert row["status"] == "open" and row["status_notes"].startswith("中心已经核实并登记")
    assert row["service_code"] == light.code and row["service_name"] == light.name
    # never the resident's words (they may name people): the kind and the building
    assert row["description"] == case.title == "居民反映：路灯不亮（测试）"
    assert "灯不亮一周了" not in str(row)
    assert row["requested_datetime"] == timezone.localtime(case.created_at).isoformat(
        timespec="seconds")
    assert row["requested_datetime"].endswith("+08:00")
    assert dt.datetime.fromisoformat(row["expected_datetime"]) == clock.deadline.replace(
        microsecond=0)
    assert dt.datetime.fromisoformat(row["updated_datetime"]) == last.at.replace(microsecond=0)
    assert "前办结" in row["service_notice"]
    assert row["lat"] == case.lat and row["long"] == case.lng
    assert row["address"].endswith("胜利社区第1网格")  # no address given: the grid's names
    assert row["media_url"] == ""
    assert "李四" not in str(row)


def test_other_channels_show_the_kind_not_the_staff_title(client, light):
    [case] = bulk_cases(1, timezone.now(), title="王五家门口路灯不亮")
    Case.objects.filter(pk=case.pk).update(description="巡查发现，联系人王五 13900002222")
    [row] = client.get(f"/open311/v2/requests/{case.register_no}.json").json()
    assert row["description"] == light.name and "王五" not in str(row)
    assert row["service_code"] == light.code  # its kind's resident-facing category


def test_confidential_and_internal_cases_are_never_listed_or_readable(client, light):
    moment = dt.datetime(2020, 3, 5, 10, tzinfo=SHANGHAI)
    [public] = bulk_cases(1, moment)
    [secret] = bulk_cases(1, moment, confidential=True)
    # a kind of work no resident-facing category stands for
    inner = CaseCategory.objects.filter(parent__isnull=False, confidential=False).exclude(
        pk__in=PublicCategory.objects.values("category_id")).first()
    [internal] = bulk_cases(1, moment, category=inner.code)
    window = "start_date=2020-03-05T00:00:00%2B08:00&end_date=2020-03-06T00:00:00%2B08:00"
    assert ids(client.get(f"{LIST}?{window}")) == [public.register_no]
    listed = ids(client.get(f"{LIST}?service_request_id={secret.register_no},"
                            f"{internal.register_no},{public.register_no}"))
    assert listed == [public.register_no]
    for hidden in (secret, internal):
        r = client.get(f"/open311/v2/requests/{hidden.register_no}.json")
        assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_service_request_id_list_ignores_the_other_filters(client, light, spot):
    old = bulk_cases(2, dt.datetime(2019, 1, 1, tzinfo=SHANGHAI), state="closed")
    listed = ids(client.get(f"{LIST}?service_request_id={old[0].register_no},"
                            f"{old[1].register_no}&status=open&service_code=t311-drain"
                            "&start_date=2026-01-01"))
    assert sorted(listed) == sorted(c.register_no for c in old)


def test_service_code_filter(client, drain, light, spot):
    moment = dt.datetime(2020, 4, 1, 9, tzinfo=SHANGHAI)
    d = resident_case(drain.code, spot, at=moment,
                      extras=_extras(severity="minor"))
    lamp = resident_case(light.code, spot, at=moment)
    window = "start_date=2020-04-01&end_date=2020-04-02"
    assert ids(client.get(f"{LIST}?{window}&service_code={light.code}")) == [lamp.register_no]
    assert ids(client.get(f"{LIST}?{window}&service_code={drain.code}")) == [d.register_no]
    both = ids(client.get(f"{LIST}?{window}&service_code={drain.code},{light.code}"))
    assert sorted(both) == sorted([d.register_no, lamp.register_no])


def _extras(**attributes: str):  # type: ignore[no-untyped-def]
    from wangge.cases.actions import Extras

    return Extras(attributes=attributes)


def test_dates_with_an_offset_naive_as_shanghai_and_z(client, light):
    # 2020-05-10 01:30 in Shanghai is 2020-05-09 17:30 UTC
    [case] = bulk_cases(1, dt.datetime(2020, 5, 10, 1, 30, tzinfo=SHANGHAI))
    no = [case.register_no]

    def between(start: str, end: str) -> list[str]:
        return ids(client.get(LIST, {"start_date": start, "end_date": end}))

    assert between("2020-05-10T00:00:00", "2020-05-10T02:00:00") == no  # naive: Shanghai
    assert between("2020-05-09T17:00:00Z", "2020-05-09T18:00:00Z") == no
    assert between("2020-05-10T02:00:00+08:00", "2020-05-11") == []
    assert between("2020-05-09T00:00:00Z", "2020-05-09T17:00:00Z") == []
    # a '+' sent unescaped in a query string arrives as a space: still read as the offset
    unescaped = "start_date=2020-05-10T01:00:00+08:00&end_date=2020-05-10T02:00:00+08:00"
    assert ids(client.get(f"{LIST}?{unescaped}")) == no


def test_status_open_closed_and_both(client, light):
    moment = dt.datetime(2020, 6, 1, 12, tzinfo=SHANGHAI)
    [open_] = bulk_cases(1, moment, state="in_progress")
    [closed] = bulk_cases(1, moment, state="closed")
    [rejected] = bulk_cases(1, moment, state="rejected")
    window = "start_date=2020-06-01&end_date=2020-06-02"
    assert ids(client.get(f"{LIST}?{window}&status=open")) == [open_.register_no]
    assert sorted(ids(client.get(f"{LIST}?{window}&status=closed"))) == sorted(
        [closed.register_no, rejected.register_no])
    assert len(ids(client.get(f"{LIST}?{window}&status=open,closed"))) == 3
    rows = client.get(f"{LIST}?{window}").json()
    assert {r["service_request_id"]: r["status"] for r in rows} == {
        open_.register_no: "open", closed.register_no: "closed",
        rejected.register_no: "closed"}


def test_default_window_is_the_last_90_days(client, light):
    now = timezone.now()
    [recent] = bulk_cases(1, now - dt.timedelta(days=10))
    [old] = bulk_cases(1, now - dt.timedelta(days=100))
    listed = ids(client.get(f"{LIST}?service_code={light.code}"))
    assert recent.register_no in listed and old.register_no not in listed
    # a start alone reaches back as far as asked, up to now
    since = (now - dt.timedelta(days=101)).date().isoformat()
    listed = ids(client.get(LIST, {"service_code": light.code, "start_date": since}))
    assert old.register_no in listed


def test_a_page_is_at_most_1000_newest_first_in_two_queries(client, light,
                                                           django_assert_max_num_queries):
    older = bulk_cases(5, dt.datetime(2019, 6, 1, 8, tzinfo=SHANGHAI))
    newer = bulk_cases(1000, dt.datetime(2019, 6, 2, 8, tzinfo=SHANGHAI))
    with django_assert_max_num_queries(2):
        r = client.get(f"{LIST}?start_date=2019-06-01&end_date=2019-06-03")
    listed = ids(r)
    assert len(listed) == 1000
    assert set(listed) == {c.register_no for c in newer}
    assert not set(listed) & {c.register_no for c in older}
    # newest first
    assert listed[0] == max(c.register_no for c in newer)


def test_xml_list_parses_back_with_chinese(client, light, spot):
    case = resident_case(light.code, spot, description="路灯一闪一闪")
    r = client.get(f"/open311/v2/requests.xml?service_request_id={case.register_no}")
    root = ET.fromstring(r.content)
    [request] = root.findall("request")
    assert request.findtext("description") == case.title  # 居民反映：路灯不亮（…）
    assert request.findtext("service_name") == light.name and "路灯" in light.name
    assert request.findtext("status") == "open"


def test_token_answers_its_request_and_an_unknown_one_is_404(client, light, spot):
    case = resident_case(light.code, spot)
    token = case.resident_report.token
    assert client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": case.register_no, "token": token}]
    root = ET.fromstring(client.get(f"/open311/v2/tokens/{token}.xml").content)
    assert root.find("request").findtext("service_request_id") == case.register_no
    r = client.get("/open311/v2/tokens/0000.json")
    assert r.status_code == 404 and "token" in r.json()[0]["description"]
    Case.objects.filter(pk=case.pk).update(confidential=True)
    assert client.get(f"/open311/v2/tokens/{token}.json").status_code == 404


def test_service_code_follows_what_each_request_shows(client, drain, light, spot):
    """A resident's choice while the case is of that kind; a case reclassified since, from
    another channel, or whose chosen category was switched off: its kind's first service.
    Filtering by a service_code finds exactly the requests that show it."""
    from wangge.cases.models import CaseCategory, PublicCategory

    moment = dt.datetime(2020, 7, 1, 9, tzinfo=SHANGHAI)
    window = {"start_date": "2020-07-01", "end_date": "2020-07-02"}
    # a second service of the drain's kind, ordered after every other one of that kind
    cover = PublicCategory.objects.create(code="t311-cover", name="井盖（测试）", group="市政设施",
                                          category=drain.category, order=999)
    chosen = resident_case(cover.code, spot, at=moment)
    moved = resident_case(cover.code, spot, at=moment)
    Case.objects.filter(pk=moved.pk).update(category=CaseCategory.objects.get(code="0602"))
    switched = resident_case(cover.code, spot, at=moment)
    [walked_in] = bulk_cases(1, moment, category=drain.category.code)
    assert sorted(ids(client.get(LIST, {**window, "service_code": cover.code}))) == sorted(
        [chosen.register_no, switched.register_no])  # not the reclassified, not walked_in
    PublicCategory.objects.filter(pk=cover.pk).update(active=False)
    first_of_drain_kind = PublicCategory.objects.filter(
        category=drain.category, active=True).order_by("order", "code").first().code
    shown = {r["service_request_id"]: r["service_code"]
             for r in client.get(LIST, window).json()}
    # the switched-off choice and the reclassified case fall back to their kind's first
    assert shown[switched.register_no] == first_of_drain_kind
    assert shown[walked_in.register_no] == first_of_drain_kind
    assert shown[moved.register_no] == PublicCategory.objects.filter(
        category__code="0602", active=True).order_by("order", "code").first().code
    assert chosen.register_no in shown
    for code in set(shown.values()):
        listed = ids(client.get(LIST, {**window, "service_code": code}))
        assert sorted(listed) == sorted(no for no, c in shown.items() if c == code), code


def test_a_residents_own_trouble_is_never_listed(client, spot):
    """求助 / 邻里纠纷 / 咨询 kinds (PublicCategory.listed = False) are reported and followed
    by their reporter on the status page, never listed or read through Open311."""
    help_kind = PublicCategory.objects.get(code="help-needed")
    assert not help_kind.listed
    case = resident_case(help_kind.code, spot, description="老伴瘫痪在床，想申请低保",
                         extras=None)
    assert case.register_no not in ids(client.get(LIST))
    assert client.get(f"/open311/v2/requests/{case.register_no}.json").status_code == 404
    services = [s["service_code"] for s in client.get("/open311/v2/services.json").json()]
    assert "help-needed" in services  # a client may still send one
