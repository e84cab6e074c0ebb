"""Online pre-review, as the applicant and the reviewer see it: a material returned for
correction, corrected and passed with both rounds kept; a rejection; illegal steps refused;
personal data sealed and masked; a retried open with the same client key makes one
application."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from wangge.core.models import OutboxMessage
from wangge.services.actions import applications as apps
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import Application, MaterialCheck, MaterialFile
from wangge.services.tests.prereview_helpers import ID_NUMBER, PHONE, make_item, pdf, png, user
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def worker_grid() -> Grid:
    from wangge.org.access import scope_paths

    path = scope_paths(user("gridworker"))[0]  # type: ignore[index]
    return Grid.objects.get(path=path)


def opened(**extra: Any) -> Application:
    make_item()
    return apps.do_open_application(
        None, item_code="T-MZ-001",
        applicant={"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE}, **extra)


def submitted() -> Application:
    a = opened()
    apps.do_upload_material(None, a, "id_card", png(), "image/png")
    apps.do_upload_material(None, a, "hukou", pdf(), "application/pdf")
    return apps.do_submit(None, a)


def test_returned_corrected_and_passed_keeps_both_rounds() -> None:
    reviewer = user("civil_affairs")
    a = submitted()
    assert a.state == "submitted" and a.round == 1 and a.due_at is not None
    apps.do_check_material(reviewer, a, "id_card", "accepted")
    apps.do_check_material(reviewer, a, "hukou", "correct", "户口簿页面不清晰")
    with pytest.raises(ServiceError) as e:
        apps.do_decide(reviewer, a, "pass")
    assert e.value.field == "decision" and "户口簿" in e.value.msg
    a = apps.do_decide(reviewer, a, "return")
    assert a.state == "returned" and "户口簿页面不清晰" in a.reason
    # the accepted ID card is not asked again; the household book is
    with pytest.raises(ServiceError) as e:
        apps.do_submit(None, a)
    assert e.value.field == "materials" and "户口簿" in e.value.msg
    with pytest.raises(ServiceError) as e:
        apps.do_upload_material(None, a, "id_card", png("blue"), "image/png")
    assert e.value.field == "material_key"
    apps.do_upload_material(None, a, "hukou", png("green"), "image/png")
    a = apps.do_submit(None, a)
    assert a.state == "submitted" and a.round == 2
    apps.do_check_material(reviewer, a, "hukou", "accepted")
    a = apps.do_decide(reviewer, a, "pass")
    assert a.state == "passed" and a.decided_by == reviewer
    files = list(MaterialFile.objects.filter(application=a).order_by("round", "material_key")
                 .values_list("round", "material_key"))
    assert files == [(1, "hukou"), (1, "id_card"), (2, "hukou")]
    checks = list(MaterialCheck.objects.filter(application=a).order_by("round", "material_key")
                  .values_list("round", "material_key", "verdict"))
    assert checks == [(1, "hukou", "correct"), (1, "id_card", "accepted"),
                      (2, "hukou", "accepted")]
    actions = list(a.events.values_list("action", flat=True))
    assert actions[:1] == ["opened"] and "return" in actions and actions[-1] == "pass"
    assert "resubmitted" in actions
    decided = OutboxMessage.objects.filter(topic="services.application_decided",
                                           payload__no=a.no)
    assert decided.count() == 2
    assert ID_NUMBER not in str(list(decided.values_list("payload", flat=True)))


def test_rejected_needs_a_reason_and_ends_the_application() -> None:
    reviewer = user("civil_affairs")
    a = submitted()
    with pytest.raises(ServiceError) as e:
        apps.do_decide(reviewer, a, "reject")
    assert e.value.field == "reason"
    a = apps.do_decide(reviewer, a, "reject", "申请人不符合受理条件（未满60周岁）")
    assert a.state == "rejected" and a.reason.startswith("申请人不符合")
    with pytest.raises(IllegalStep, match="不予通过"):
        apps.do_decide(reviewer, a, "pass")
    with pytest.raises(IllegalStep, match="不予通过"):
        apps.do_upload_material(None, a, "hukou", png(), "image/png")
    with pytest.raises(IllegalStep):
        apps.do_withdraw(None, a)


def test_return_needs_a_material_to_correct() -> None:
    a = submitted()
    with pytest.raises(ServiceError) as e:
        apps.do_decide(user("civil_affairs"), a, "return", "请补正")
    assert e.value.code == "nothing_to_correct"


def test_correct_verdict_needs_a_reason() -> None:
    a = submitted()
    with pytest.raises(ServiceError) as e:
        apps.do_check_material(user("civil_affairs"), a, "hukou", "correct")
    assert e.value.field == "reason"


def test_submit_needs_every_required_material() -> None:
    a = opened()
    apps.do_upload_material(None, a, "id_card", png(), "image/png")
    with pytest.raises(ServiceError) as e:
        apps.do_submit(None, a)
    assert e.value.field == "materials" and "户口簿" in e.value.msg
    a.refresh_from_db()
    assert a.state == "draft" and a.due_at is None


def test_other_departments_staff_cannot_review() -> None:
    a = submitted()
    with pytest.raises(Http404):
        apps.do_check_material(user("water"), a, "hukou", "accepted")
    with pytest.raises(Http404):
        apps.do_decide(user("water"), a, "reject", "x")
    # the center's dispatcher sees it but does not review it
    with pytest.raises(IllegalStep):
        apps.do_decide(user("dispatcher"), a, "reject", "x")
    a.refresh_from_db()
    assert a.state == "submitted"


def test_reviewer_cannot_submit_for_the_applicant() -> None:
    a = opened()
    with pytest.raises(Http404):  # the reviewer sees only submitted work of the department
        apps.do_upload_material(user("water"), a, "hukou", png(), "image/png")


def test_item_without_online_prereview_is_refused() -> None:
    make_item("T-NO-ONLINE", online=False)
    with pytest.raises(ServiceError) as e:
        apps.do_open_application(None, item_code="T-NO-ONLINE", applicant={"name": "李四"})
    assert e.value.field == "item_code"
    # a proxy request's application may still be opened
    a = apps.do_open_application(None, item_code="T-NO-ONLINE", applicant={"name": "李四"},
                                 channel=Application.Channel.PROXY)
    assert a.channel == "proxy"


@pytest.mark.parametrize(("field", "applicant"), [
    ("applicant.name", {"name": "  "}),
    ("applicant.id_number", {"name": "张三", "id_number": "110105194912310021"}),
    ("applicant.phone", {"name": "张三", "phone": "12345"}),
])
def test_bad_applicant_is_refused_naming_the_field(field: str, applicant: dict) -> None:
    make_item()
    before = Application.objects.count()
    with pytest.raises(ServiceError) as e:
        apps.do_open_application(None, item_code="T-MZ-001", applicant=applicant)
    assert e.value.field == field
    assert Application.objects.count() == before


def test_personal_data_is_sealed_and_masked() -> None:
    a = opened()
    row = Application.objects.filter(pk=a.pk).values(
        "id_number_enc", "id_number_masked", "phone_enc", "phone_masked", "id_number_hash").get()
    assert ID_NUMBER.encode() not in bytes(row["id_number_enc"])
    assert PHONE.encode() not in bytes(row["phone_enc"])
    assert row["id_number_masked"] == "110105********002X"
    assert row["phone_masked"] == "138****5678"
    assert ID_NUMBER not in row["id_number_hash"]
    assert a.no.startswith("YS") and a.version.number == 1
    assert a.department.code == "civil-affairs"


def test_grid_comes_from_the_argument_or_the_residents_house() -> None:
    from wangge.registry.models import Resident

    grid = worker_grid()
    a = opened(grid_id=grid.pk, channel=Application.Channel.WORKER)
    assert a.grid_id == grid.pk
    resident = Resident.objects.select_related("house").first()
    assert resident is not None
    b = apps.do_open_application(None, item_code="T-MZ-001", applicant={"name": "赵六"},
                                 resident_id=resident.pk)
    assert b.grid_id == resident.house.grid_id and b.resident_id == resident.pk


def test_retried_open_with_the_same_client_key_makes_one_application() -> None:
    make_item()
    worker = user("gridworker")
    grid = worker_grid()
    kwargs: dict[str, Any] = {"item_code": "T-MZ-001", "applicant": {"name": "王秀英"},
                              "grid_id": grid.pk, "channel": "worker", "client_key": "k-1"}
    before = Application.objects.count()
    first = apps.do_open_application(worker, **kwargs)
    again = apps.do_open_application(worker, **kwargs)
    assert first.pk == again.pk and Application.objects.count() == before + 1


def test_withdraw_from_submitted() -> None:
    a = submitted()
    a = apps.do_withdraw(None, a)
    assert a.state == "withdrawn"
    with pytest.raises(IllegalStep, match="已撤回"):
        apps.do_submit(None, a)


# ---------------------------------------------------------------------------- console


def test_menu_and_landing_send_the_reviewer_to_the_inbox(login_as: Any) -> None:
    reviewer = login_as("civil_affairs")
    page = reviewer.get("/console/cases/").content.decode()
    assert "/console/services/" in page and "便民服务" in page
    r = reviewer.get("/console/services/")
    assert r.status_code == 302 and r["Location"] == "/console/services/review/"
    assert "便民服务" not in login_as("gridworker").get("/console/cases/").content.decode()
    assert login_as("gridworker").get("/console/services/review/").status_code == 404


def test_inbox_puts_overdue_first_and_the_reviewer_decides(login_as: Any) -> None:
    import datetime as dt

    from wangge.services.actions.clocks import sweep_clocks

    late = submitted()
    fresh = apps.do_submit(None, _second_draft())
    assert late.due_at is not None
    Application.objects.filter(pk=late.pk).update(due_at=late.due_at - dt.timedelta(days=5))
    late.refresh_from_db()
    sweep_clocks(late.due_at + dt.timedelta(minutes=1))  # type: ignore[operator]
    reviewer = login_as("civil_affairs")
    page = reviewer.get("/console/services/review/").content.decode()
    overdue_at = page.index('id="overdue"')
    waiting_at = page.index('id="waiting"')
    assert overdue_at < page.index(late.no) < waiting_at < page.index(fresh.no)
    assert "已督办" in page and "王秀英" not in page and "王*" in page
    assert login_as("water").get("/console/services/review/").content.decode().count(
        late.no) == 0
    assert login_as("water").get(f"/console/services/review/{late.pk}/").status_code == 404
    detail = reviewer.get(f"/console/services/review/{late.pk}/").content.decode()
    assert f"/console/services/review/{late.pk}/files/" in detail and "<img" in detail
    r = reviewer.post(f"/console/services/review/{late.pk}/check/",
                      {"material_key": "hukou", "verdict": "correct", "reason": ""})
    assert r.status_code == 302
    assert not MaterialCheck.objects.filter(application=late).exists()
    for key in ("id_card", "hukou"):
        reviewer.post(f"/console/services/review/{late.pk}/check/",
                      {"material_key": key, "verdict": "accepted"})
    r = reviewer.post(f"/console/services/review/{late.pk}/decide/", {"decision": "pass"})
    assert r.status_code == 302
    late.refresh_from_db()
    assert late.state == "passed"
    page = reviewer.get("/console/services/review/").content.decode()
    assert page.index('id="decided"') < page.index(late.no)


def _second_draft() -> Application:
    a = apps.do_open_application(None, item_code="T-MZ-001", applicant={"name": "陈桂香"})
    apps.do_upload_material(None, a, "id_card", png("yellow"), "image/png")
    apps.do_upload_material(None, a, "hukou", pdf(), "application/pdf")
    return a


def _submitted(channel: str, creator: Any) -> Application:
    from wangge.services.tests.prereview_helpers import worker_grid_id

    make_item()
    a = apps.do_open_application(creator, item_code="T-MZ-001", applicant={"name": "测试"},
                                 grid_id=worker_grid_id(), channel=channel)
    for key in ("id_card", "hukou"):
        apps.store_material(a, key, png(), "image/png", creator)
    return apps.do_submit(creator, a, via_proxy=channel == Application.Channel.PROXY)


def test_a_proxy_requests_application_moves_only_with_its_request(login_as) -> None:
    """Withdrawn or submitted on its own, a proxy request's application would leave the
    request waiting for a decision that never reaches it: refused with 409, nothing moved."""
    a = _submitted(Application.Channel.PROXY, user("gridworker"))
    client = login_as("gridworker")
    for step in ("withdraw", "submit"):
        r = client.post(f"/api/v1/services/applications/{a.pk}/{step}", "{}",
                        content_type="application/json")
        assert r.status_code == 409, (step, r.content)
        assert "代办" in r.json()["detail"]
    assert Application.objects.get(pk=a.pk).state == Application.State.SUBMITTED


def test_staff_cannot_withdraw_a_residents_own_online_application(login_as) -> None:
    """A resident's online application is theirs: the station of their grid reads it but
    neither submits nor withdraws it for them."""
    a = _submitted(Application.Channel.PUBLIC, None)
    client = login_as("station")
    assert client.get(f"/api/v1/services/applications/{a.pk}").status_code == 200
    r = client.post(f"/api/v1/services/applications/{a.pk}/withdraw", "{}",
                    content_type="application/json")
    assert r.status_code == 409
    assert Application.objects.get(pk=a.pk).state == Application.State.SUBMITTED


def test_an_application_names_only_residents_and_grids_in_the_applicants_reach() -> None:
    """The worker of another grid cannot probe whether a resident exists, or learn their
    grid, by opening an application for them: refused naming the field, nothing written."""
    from wangge.registry.models import Resident
    from wangge.services.tests.prereview_helpers import make_other_worker, worker_grid_id

    make_item()
    resident = Resident.objects.filter(grid_id=worker_grid_id()).first()
    before = Application.objects.count()
    other = make_other_worker()
    for field, kwargs in (("resident_id", {"resident_id": resident.pk}),
                          ("grid_id", {"grid_id": worker_grid_id()})):
        with pytest.raises(ServiceError) as refused:
            apps.do_open_application(other, item_code="T-MZ-001",
                                     applicant={"name": "测试"}, **kwargs)
        assert refused.value.field == field
    assert Application.objects.count() == before
    # the worker of that grid may
    mine = apps.do_open_application(user("gridworker"), item_code="T-MZ-001",
                                    applicant={"name": "测试"}, resident_id=resident.pk)
    assert mine.grid_id == worker_grid_id()


def test_a_material_holds_at_most_nine_files_a_round() -> None:
    """The pages of one document fit; an open draft is not a free file store."""
    make_item()
    a = apps.do_open_application(None, item_code="T-MZ-001", applicant={"name": "测试"})
    for i in range(apps.MAX_FILES_PER_MATERIAL):
        apps.store_material(a, "id_card", png(size=(40 + i, 30)), "image/png", None)
    with pytest.raises(ServiceError) as refused:
        apps.store_material(a, "id_card", png(size=(99, 30)), "image/png", None)
    assert refused.value.field == "file"
    assert MaterialFile.objects.filter(application=a).count() == apps.MAX_FILES_PER_MATERIAL
