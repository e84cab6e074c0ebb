"""The console's dispute pages: the list (counts by kind × risk, filters, masked parties,
high-risk alerts), the dispute page (scope, masked vs whole names, the reveal, the forms of
the next moves with errors beside the field and nothing written on error), the printable
agreement with its signatures, the screening coverage map and the mediators' workload."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from PIL import Image

from wangge.core.models import AuditEntry
from wangge.disputes.actions.mediation import do_accept, do_record_session
from wangge.disputes.actions.outcome import do_make_agreement, do_record_follow_up
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.actions.screening import do_record_screening
from wangge.disputes.models import (
    Agreement,
    Alert,
    Dispute,
    Event,
    Screening,
    ScreeningRule,
    Session,
    Signature,
)
from wangge.disputes.tests.conftest import (
    AT,
    LAST_MONTH,
    OUTSIDER_PHONE,
    dispute_payload,
    item,
    person,
)
from wangge.org.models import Person, Role, RoleAssignment

pytestmark = pytest.mark.django_db

WHOLE = "王测试"
MASKED_RE = re.compile(r"王\*+")


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def text(response: Any) -> str:
    return response.content.decode()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (250, 250, 250)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def chief(place) -> Any:  # type: ignore[no-untyped-def]
    """The community's grid chief: in the chain, reads disputes, does not mediate them."""
    user = get_user_model().objects.create(username="t_chief")
    p = Person.objects.create(user=user, name="测试网格长")
    RoleAssignment.objects.create(person=p, role=Role.GRID_CHIEF, grid=place.village,
                                  started_on=dt.date(2026, 1, 1))
    return user


@pytest.fixture
def dispute(place, staff) -> Dispute:  # type: ignore[no-untyped-def]
    """A labour dispute recorded by the grid's worker: an outsider and a company."""
    return do_record_dispute(staff.worker, dispute_payload(place.basic))


@pytest.fixture
def mediating(dispute, staff) -> Dispute:  # type: ignore[no-untyped-def]
    do_accept(staff.grid_mediator, dispute.pk)
    return Dispute.objects.get(pk=dispute.pk)


@pytest.fixture
def agreed(mediating, staff) -> Dispute:  # type: ignore[no-untyped-def]
    do_record_session(staff.grid_mediator, {
        "dispute_id": mediating.pk, "held_at": timezone.now().isoformat(), "place": "社区调解室",
        "attendees": "双方当事人", "notes": "双方同意分期支付", "photo_hashes": []})
    do_make_agreement(staff.grid_mediator, mediating.pk, terms="十二月底前付清工资86000元")
    return Dispute.objects.get(pk=mediating.pk)


# -- the list -------------------------------------------------------------------------------

def test_list_counts_by_kind_and_risk_with_masked_parties(place, staff, dispute) -> None:  # type: ignore[no-untyped-def]
    r = client(staff.station).get("/console/disputes/")
    assert r.status_code == 200
    page = text(r)
    assert dispute.number in page and "劳资纠纷" in page
    assert WHOLE not in page and MASKED_RE.search(page)
    # the coloured table: the labour row's medium cell links to the filtered list
    assert "kind=labour&amp;risk=medium" in page
    # filters narrow the list
    assert dispute.number not in text(client(staff.station).get(
        "/console/disputes/?risk=high"))
    assert dispute.number in text(client(staff.station).get(
        f"/console/disputes/?kind=labour&risk=medium&grid={place.village.code}"))
    assert dispute.number not in text(client(staff.station).get(
        "/console/disputes/?state=closed"))
    # a grid outside the user's scope is a 404, not an empty page
    assert client(staff.station).get(
        f"/console/disputes/?grid={place.far.parent.code}").status_code == 404


def test_list_leaves_out_what_is_outside_scope(place, staff, dispute) -> None:  # type: ignore[no-untyped-def]
    for user in (staff.far_worker, staff.sibling_worker, staff.department):
        r = client(user).get("/console/disputes/")
        assert r.status_code == 200
        assert dispute.number not in text(r)


def test_high_risk_alert_shown_to_the_workstation_until_seen(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic, risk="high",
                                                        subject="工地讨薪聚集"))
    alert = Alert.objects.get(dispute=d, grid=place.village)
    station = client(staff.station)
    page = text(station.get("/console/disputes/"))
    assert f'id="alert-{alert.pk}"' in page and "工地讨薪聚集" in page
    # another body's staff cannot mark it seen
    assert client(staff.far_worker).post(
        f"/console/disputes/alerts/{alert.pk}/seen/").status_code == 404
    assert station.get(f"/console/disputes/alerts/{alert.pk}/seen/").status_code == 405
    r = station.post(f"/console/disputes/alerts/{alert.pk}/seen/")
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.seen_at is not None and alert.seen_by_id == staff.station.pk
    assert f'id="alert-{alert.pk}"' not in text(station.get("/console/disputes/"))


# -- the dispute page -----------------------------------------------------------------------

def test_dispute_page_scope_and_names(place, staff, chief, dispute) -> None:  # type: ignore[no-untyped-def]
    url = f"/console/disputes/{dispute.pk}/"
    # those who may mediate it and its recorder see the names whole
    for user in (staff.worker, staff.grid_mediator, staff.station, staff.dispatcher):
        r = client(user).get(url)
        assert r.status_code == 200, user
        assert WHOLE in text(r)
    # the chain above reads it masked
    r = client(chief).get(url)
    assert r.status_code == 200
    assert WHOLE not in text(r) and MASKED_RE.search(text(r))
    # outside the scope: 404, the same as no such dispute
    for user in (staff.far_worker, staff.sibling_worker, staff.department):
        assert client(user).get(url).status_code == 404
    assert client(staff.station).get("/console/disputes/999999999/").status_code == 404
    assert client(staff.station).get(
        "/console/disputes/99999999999999999999/").status_code == 404
    assert Client().get(url).status_code == 302  # signed out: to the login


def test_account_session_and_follow_up_notes_only_for_those_who_see_the_parties(  # type: ignore[no-untyped-def]
        place, staff, chief, agreed) -> None:
    do_record_follow_up(staff.worker, {"dispute_id": agreed.pk, "honoured": "yes",
                                "note": "工资已按时付清"})
    account = item()["account"]
    for url in (f"/console/disputes/{agreed.pk}/", f"/console/disputes/{agreed.pk}/agreement/"):
        assert account in text(client(staff.grid_mediator).get(url)), url
    page = text(client(staff.grid_mediator).get(f"/console/disputes/{agreed.pk}/"))
    assert "双方同意分期支付" in page and "双方当事人" in page and "工资已按时付清" in page
    # the leader and the grid chief read it with masked parties: not what the parties said
    for user in (staff.leader, chief):
        for url in (f"/console/disputes/{agreed.pk}/",
                    f"/console/disputes/{agreed.pk}/agreement/"):
            r = client(user).get(url)
            assert r.status_code == 200, (user, url)
            assert account not in text(r) and 'class="account"' not in text(r), (user, url)
        page = text(client(user).get(f"/console/disputes/{agreed.pk}/"))
        assert "双方同意分期支付" not in page and "双方当事人" not in page
        assert "工资已按时付清" not in page
        assert 'id="follow-ups"' in page  # the follow-up itself is listed


def test_sensitive_dispute_invisible_to_the_chain(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(
        place.basic, kind="domestic_violence", subject="家暴求助", amount=None))
    assert d.sensitive
    url = f"/console/disputes/{d.pk}/"
    for user in (staff.station, staff.subcenter, staff.dispatcher, staff.leader):
        assert client(user).get(url).status_code == 404, user
        page = text(client(user).get("/console/disputes/?state="))
        assert d.number not in page and "家暴求助" not in page
    for user in (staff.worker, staff.grid_mediator, staff.admin):
        assert client(user).get(url).status_code == 200, user


def test_high_risk_sensitive_dispute_alerts_the_station_without_naming_it(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(
        place.basic, kind="domestic_violence", risk="high", subject="家暴求助紧急",
        amount=None))
    for user in (staff.station, staff.subcenter):
        page = text(client(user).get("/console/disputes/"))
        assert 'id="alerts-unnamed"' in page and "辖区新增高风险敏感纠纷 1 件" in page, user
        assert d.number not in page and "家暴求助紧急" not in page
        assert f"/console/disputes/{d.pk}/" not in page
    # those who see it get the named alert, not the count; other bodies nothing
    for user in (staff.worker, staff.far_worker, staff.leader):
        assert 'id="alerts-unnamed"' not in text(client(user).get("/console/disputes/")), user


def test_reveal_an_outsiders_phone_with_a_purpose(place, staff, chief, dispute) -> None:  # type: ignore[no-untyped-def]
    party = dispute.parties.get(role="applicant")
    url = f"/console/disputes/{dispute.pk}/parties/{party.pk}/reveal/"
    mediator = client(staff.grid_mediator)
    page = text(mediator.get(f"/console/disputes/{dispute.pk}/"))
    assert OUTSIDER_PHONE not in page and party.phone_masked in page
    before = AuditEntry.objects.filter(action="disputes.party_revealed").count()
    # a purpose too short: the field says so, nothing is opened or logged
    r = mediator.post(url, {f"reveal-{party.pk}-purpose": "x"})
    assert r.status_code == 422
    assert OUTSIDER_PHONE not in text(r) and "field-error" in text(r)
    assert AuditEntry.objects.filter(action="disputes.party_revealed").count() == before
    r = mediator.post(url, {f"reveal-{party.pk}-purpose": "联系当事人安排调解"})
    assert r.status_code == 200 and OUTSIDER_PHONE in text(r)
    assert AuditEntry.objects.filter(action="disputes.party_revealed").count() == before + 1
    # the masked reader gets no reveal: 403, nothing opened
    r = client(chief).post(url, {f"reveal-{party.pk}-purpose": "联系当事人安排调解"})
    assert r.status_code == 403 and OUTSIDER_PHONE not in text(r)
    assert client(staff.far_worker).post(
        url, {f"reveal-{party.pk}-purpose": "联系"}).status_code == 404


def test_forms_offered_by_state_and_role(place, staff, chief, dispute) -> None:  # type: ignore[no-untyped-def]
    page = text(client(staff.grid_mediator).get(f"/console/disputes/{dispute.pk}/"))
    assert f'action="/console/disputes/{dispute.pk}/accept/"' in page
    assert f'action="/console/disputes/{dispute.pk}/agree/"' not in page
    # the grid chief reads, does not act
    page = text(client(chief).get(f"/console/disputes/{dispute.pk}/"))
    assert "/accept/" not in page and 'class="step-form' not in page


def test_session_form_errors_name_the_field_and_write_nothing(staff, mediating) -> None:  # type: ignore[no-untyped-def]
    mediator = client(staff.grid_mediator)
    url = f"/console/disputes/{mediating.pk}/session/"
    events = Event.objects.filter(dispute=mediating).count()
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = mediator.post(url, {"session-held_at": now, "session-place": "",
                            "session-attendees": "双方", "session-notes": "调解"})
    assert r.status_code == 422
    page = text(r)
    assert 'id="id_session-place-error"' in page
    # what was typed stays in the form
    assert "双方" in page
    assert Session.objects.filter(dispute=mediating).count() == 0
    assert Event.objects.filter(dispute=mediating).count() == events
    r = mediator.post(url, {"session-held_at": now, "session-place": "社区调解室",
                            "session-attendees": "双方当事人", "session-notes": "初步沟通"})
    assert r.status_code == 302 and r["Location"].endswith(f"/{mediating.pk}/#session")
    assert Session.objects.filter(dispute=mediating, place="社区调解室").count() == 1


def test_a_refusal_of_the_action_shows_beside_its_field() -> None:
    """A rule of the do_* (not the form) refuses: its DisputeError's field gets the message."""
    from wangge.disputes.forms import AgreementForm
    form = AgreementForm({"agree-terms": "x"})
    assert form.is_valid()
    form.add_refusal("terms", "too short")
    assert form.errors == {"terms": ["too short"]}
    form.add_refusal("parties.0.name", "no such field here")
    assert form.non_field_errors() == ["no such field here"]
    from wangge.disputes.forms import AcceptForm
    accept = AcceptForm({"accept-mediator": ""}, mediators=[(1, "甲")])
    assert accept.is_valid()
    accept.add_refusal("mediator_id", "no mediator serves this grid: name one")
    assert accept.errors == {"mediator": ["no mediator serves this grid: name one"]}


def test_a_move_the_state_does_not_allow_is_409_and_writes_nothing(staff, dispute) -> None:  # type: ignore[no-untyped-def]
    r = client(staff.grid_mediator).post(f"/console/disputes/{dispute.pk}/agree/",
                                         {"agree-terms": "双方和解"})
    assert r.status_code == 409
    assert "已登记" in text(r)
    assert not Agreement.objects.filter(dispute=dispute).exists()
    assert Dispute.objects.get(pk=dispute.pk).state == "registered"


def test_no_step_for_those_who_may_not_mediate(place, staff, chief, dispute) -> None:  # type: ignore[no-untyped-def]
    r = client(chief).post(f"/console/disputes/{dispute.pk}/accept/", {})
    assert r.status_code == 403
    assert Dispute.objects.get(pk=dispute.pk).state == "registered"
    assert client(staff.far_worker).post(
        f"/console/disputes/{dispute.pk}/accept/", {}).status_code == 404
    assert client(staff.grid_mediator).post(
        f"/console/disputes/{dispute.pk}/nonsense/", {}).status_code == 404
    assert client(staff.grid_mediator).get(
        f"/console/disputes/{dispute.pk}/accept/").status_code == 405


def test_accept_session_agreement_through_the_forms(staff, dispute) -> None:  # type: ignore[no-untyped-def]
    mediator = client(staff.grid_mediator)
    base = f"/console/disputes/{dispute.pk}"
    assert mediator.post(f"{base}/accept/", {"accept-mediator": ""}).status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).state == "mediating"
    r = mediator.post(f"{base}/agree/", {"agree-terms": "", "agree-perform_by": ""})
    assert r.status_code == 422 and 'id="id_agree-terms-error"' in text(r)
    r = mediator.post(f"{base}/agree/", {"agree-terms": "十二月底前付清",
                                         "agree-perform_by": "2026-12-31"})
    assert r.status_code == 302
    a = Agreement.objects.get(dispute=dispute)
    assert a.perform_by.isoformat() == "2026-12-31"
    page = text(mediator.get(f"{base}/"))
    assert a.number in page and f'action="{base}/sign/"' in page
    assert f'action="{base}/follow_up/"' in page


# -- the agreement --------------------------------------------------------------------------

def test_agreement_page_signatures_and_blank_lines(staff, chief, agreed) -> None:  # type: ignore[no-untyped-def]
    a = Agreement.objects.get(dispute=agreed)
    base = f"/console/disputes/{agreed.pk}"
    mediator = client(staff.grid_mediator)
    applicant = agreed.parties.get(role="applicant")
    # an upload that is not a picture: the file field says so, nothing is signed or stored
    r = mediator.post(f"{base}/sign/", {"sign-party": applicant.pk,
                                        "sign-file": io.BytesIO(b"not a picture")})
    assert r.status_code == 422 and 'id="id_sign-file-error"' in text(r)
    assert not Signature.objects.filter(agreement=a).exists()
    f = io.BytesIO(png())
    f.name = "scan.png"
    r = mediator.post(f"{base}/sign/", {"sign-party": applicant.pk, "sign-file": f})
    assert r.status_code == 302, text(r)
    sig = Signature.objects.get(agreement=a, party=applicant)
    assert sig.method == "scan"

    page = text(mediator.get(f"{base}/agreement/"))
    assert a.number in page and WHOLE in page and "十二月底前付清工资86000元" in page
    assert f"{base}/signatures/{sig.pk}/" in page
    assert page.count('class="sig-blank"') == 1  # the company has not signed
    r = mediator.get(f"{base}/signatures/{sig.pk}/")
    assert r.status_code == 200 and r["Content-Type"].startswith("image/")

    # the chain above reads it masked, without the signatures' images
    reader = client(chief)
    page = text(reader.get(f"{base}/agreement/"))
    assert WHOLE not in page and f"/signatures/{sig.pk}/" not in page
    assert reader.get(f"{base}/signatures/{sig.pk}/").status_code == 404
    assert client(staff.far_worker).get(f"{base}/agreement/").status_code == 404
    assert client(staff.far_worker).get(f"{base}/signatures/{sig.pk}/").status_code == 404


def test_no_agreement_page_before_an_agreement(staff, dispute) -> None:  # type: ignore[no-untyped-def]
    assert client(staff.grid_mediator).get(
        f"/console/disputes/{dispute.pk}/agreement/").status_code == 404


# -- coverage and workload ------------------------------------------------------------------

def test_coverage_map_colours_and_lists_the_grids_not_screened(place, staff) -> None:  # type: ignore[no-untyped-def]
    # the demo's returns of the month, if any, make way for this test's
    Screening.objects.filter(grid__in=[place.basic, place.sibling],
                             period_start__gte=LAST_MONTH,
                             period_start__lt=(LAST_MONTH + dt.timedelta(days=31)).replace(day=1)
                             ).delete()
    do_record_screening(staff.worker, {"grid_id": place.basic.pk, "screened_at": AT,
                                       "nil": True, "note": "本月无矛盾纠纷"})
    do_record_screening(staff.sibling_worker, {"grid_id": place.sibling.pk, "screened_at": AT,
                                               "nil": False, "items": [item()]})
    r = client(staff.station).get(f"/console/disputes/coverage/?month={LAST_MONTH:%Y-%m}")
    assert r.status_code == 200
    page = text(r)
    data = r.context["map_data"]
    status = {f["properties"]["code"]: f["properties"]["status"] for f in data["features"]}
    assert status[place.basic.code] == "nil" and status[place.sibling.code] == "screened"
    assert set(status.values()) <= {"nil", "screened", "missing"}
    missing = {g["code"] for g in r.context["missing"]}
    assert place.basic.code not in missing and place.sibling.code not in missing
    assert missing == {c for c, s in status.items() if s == "missing"}
    assert place.far.code not in status  # outside the workstation's scope
    assert 'id="screening-map"' in page and 'id="screening-data"' in page
    # a month long before: nobody screened
    r = client(staff.station).get("/console/disputes/coverage/?month=2020-10")
    assert place.basic.code in {g["code"] for g in r.context["missing"]}
    # a grid picked outside the scope: 404
    assert client(staff.station).get(
        f"/console/disputes/coverage/?grid={place.far.parent.code}").status_code == 404


def test_coverage_judges_a_weekly_grid_by_its_weeks(place, staff) -> None:  # type: ignore[no-untyped-def]
    """A grid under a weekly rule is screened for the month once every week of it has a
    return (the first week reaching back before the 1st); not missing for lacking a
    return dated the 1st."""
    ScreeningRule.objects.create(grid=place.sibling, period="week")
    first = LAST_MONTH
    end = (first + dt.timedelta(days=31)).replace(day=1)
    weeks = []
    week = first - dt.timedelta(days=first.weekday())
    while week < end:
        weeks.append(week)
        week += dt.timedelta(days=7)
    Screening.objects.filter(grid=place.sibling, period_start__gte=weeks[0],
                             period_start__lt=end).delete()
    url = f"/console/disputes/coverage/?month={first:%Y-%m}"

    def status() -> tuple[str, bool]:
        r = client(staff.station).get(url)
        assert r.status_code == 200
        shown = {f["properties"]["code"]: f["properties"]["status"]
                 for f in r.context["map_data"]["features"]}
        return shown[place.sibling.code], place.sibling.code in {
            g["code"] for g in r.context["missing"]}

    worker = person(staff.sibling_worker)
    for n, week in enumerate(weeks):
        assert status() == ("missing", True), week
        Screening.objects.create(
            grid=place.sibling, period="week", period_start=week, nil=True,
            screened_at=timezone.make_aware(dt.datetime.combine(
                week + dt.timedelta(days=2), dt.time(10))),
            screened_by=worker, recorded_by=staff.sibling_worker, note=f"第{n + 1}周")
    assert status() == ("nil", False)


def test_workload_per_mediator(staff, agreed) -> None:  # type: ignore[no-untyped-def]
    r = client(staff.station).get("/console/disputes/workload/?month="
                                  + Agreement.objects.get(dispute=agreed).made_at.strftime("%Y-%m"))
    assert r.status_code == 200
    rows = {row["name"]: row for row in r.context["rows"]}
    row = rows["测试grid_mediator"]
    assert (row["agreements"], row["rate"]) == (1, 100)
    assert 'id="workload-chart"' in text(r) and 'id="workload-data"' in text(r)
    # a worker of another town does not see this mediator's disputes
    r = client(staff.far_worker).get("/console/disputes/workload/")
    assert "测试grid_mediator" not in {row["name"] for row in r.context["rows"]}


def test_a_month_out_of_range_is_404_not_an_error(staff) -> None:  # type: ignore[no-untyped-def]
    station = client(staff.station)
    for page in ("workload", "coverage"):
        for month in ("9999-12", "0001-01", "1999-12", "2100-01"):
            assert station.get(f"/console/disputes/{page}/?month={month}").status_code == 404
        # not a month at all: this month's figures
        r = station.get(f"/console/disputes/{page}/?month=2026-13")
        assert r.status_code == 200
        assert r.context["month"] == timezone.localdate().replace(day=1)


def main_menu(response: Any) -> str:
    page = text(response)
    start = page.index('<nav class="main-nav"')
    return page[start:page.index("</nav>", start)]


def test_the_menu_links_the_disputes_for_the_chain_not_departments(staff) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/console/disputes/"' in main_menu(client(staff.station).get("/"))
    assert 'href="/console/disputes/"' not in main_menu(client(staff.department).get(
        "/console/disputes/"))


def test_the_other_moves_through_the_forms(place, staff, mediating) -> None:  # type: ignore[no-untyped-def]
    from wangge.disputes.models import Referral
    from wangge.disputes.tests.conftest import person
    mediator = client(staff.grid_mediator)
    base = f"/console/disputes/{mediating.pk}"
    # a rule of the action (not of the form) refuses: beside its field, nothing written
    r = mediator.post(f"{base}/session/", {"session-held_at": "2020-01-01T10:00",
                                           "session-place": "社区调解室",
                                           "session-attendees": "双方", "session-notes": "调解"})
    assert r.status_code == 422 and 'id="id_session-held_at-error"' in text(r)
    assert not Session.objects.filter(dispute=mediating).exists()
    # another mediator of the bodies above takes it over
    other = person(staff.station_mediator)
    assert mediator.post(f"{base}/assign/", {"assign-mediator": other.pk}).status_code == 302
    assert Dispute.objects.get(pk=mediating.pk).mediator_id == other.pk
    # a referral to a department names the department
    r = mediator.post(f"{base}/refer/", {"refer-body": "department", "refer-department": "",
                                         "refer-reason": "涉及劳动保障监察"})
    assert r.status_code == 422 and 'id="id_refer-department-error"' in text(r)
    assert not Referral.objects.filter(dispute=mediating).exists()
    # one level up: the workstation's committee takes it up afresh
    assert mediator.post(f"{base}/escalate/", {"escalate-reason": "双方分歧较大"}
                         ).status_code == 302
    d = Dispute.objects.get(pk=mediating.pk)
    assert (d.level, d.state, d.handling_grid_id) == ("workstation", "registered",
                                                      place.village.pk)
    # withdrawn only with a reason
    station = client(staff.station)
    r = station.post(f"{base}/withdraw/", {"withdraw-reason": ""})
    assert r.status_code == 422 and 'id="id_withdraw-reason-error"' in text(r)
    assert Dispute.objects.get(pk=mediating.pk).state == "registered"
    assert station.post(f"{base}/withdraw/", {"withdraw-reason": "申请人撤回"}).status_code == 302
    assert Dispute.objects.get(pk=mediating.pk).state == "withdrawn"
    assert 'class="step-form' not in text(station.get(f"{base}/"))  # nothing more to do


def test_sensitive_marking_and_follow_up_through_the_forms(staff, agreed) -> None:  # type: ignore[no-untyped-def]
    mediator = client(staff.grid_mediator)
    base = f"/console/disputes/{agreed.pk}"
    assert client(staff.station).get(f"{base}/").status_code == 200
    r = mediator.post(f"{base}/sensitive/", {"sensitive-sensitive": "on",
                                             "sensitive-reason": "涉及家庭隐私"})
    assert r.status_code == 302
    assert Dispute.objects.get(pk=agreed.pk).sensitive
    assert client(staff.station).get(f"{base}/").status_code == 404
    r = mediator.post(f"{base}/follow_up/", {"follow_up-at": "", "follow_up-honoured": "yes"})
    assert r.status_code == 422 and 'id="id_follow_up-at-error"' in text(r)
    assert Dispute.objects.get(pk=agreed.pk).state == "agreed"
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = mediator.post(f"{base}/follow_up/", {"follow_up-at": now, "follow_up-honoured": "yes",
                                             "follow_up-note": "工资已全部付清"})
    assert r.status_code == 302
    assert Dispute.objects.get(pk=agreed.pk).state == "closed"
    assert "工资已全部付清" in text(mediator.get(f"{base}/"))
