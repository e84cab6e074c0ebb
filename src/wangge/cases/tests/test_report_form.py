"""The report form (上报) in the rain: the channel asked only of those who choose it, one case
per client key, photos kept after a refused submit, and the success page with the register
number and the follow code."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from wangge.cases.forms import own_channel
from wangge.cases.models import Case
from wangge.org.actions import do_assign_role
from wangge.org.models import Department, Person, Role
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

NEW = "/console/cases/new/"


def jpeg(colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


def upload(colour: str = "orange", name: str = "a.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(colour), content_type="image/jpeg")


def form(spot: tuple[float, float], key: str, **extra: Any) -> dict[str, Any]:
    return {"category": "0601", "title": "胜利路口井盖缺失", "lng": spot[0], "lat": spot[1],
            "client_key": key, **extra}


def kept_names(html: str) -> list[str]:
    return re.findall(r'name="kept_photo" value="([0-9a-f]{64}\.jpg)"', html)


@pytest.fixture
def resident(django_user_model) -> Client:  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create(username="test-resident")
    client = Client()
    client.force_login(user)
    return client


def test_a_grid_worker_is_not_asked_for_the_channel_and_reports_as_one(login_as, spot) -> None:
    worker = login_as("gridworker")
    html = worker.get(NEW).content.decode()
    assert 'name="channel"' not in html and 'name="category"' in html
    r = worker.post(NEW, form(spot, "ch-1", channel=Case.Channel.WALK_IN))
    assert r.status_code == 302
    assert Case.objects.latest("id").channel == Case.Channel.GRID_WORKER  # not what was posted


def test_a_resident_reports_as_a_resident(resident, spot) -> None:
    assert 'name="channel"' not in resident.get(NEW).content.decode()
    r = resident.post(NEW, form(spot, "ch-2", channel=Case.Channel.STATION))
    assert r.status_code == 302
    assert Case.objects.latest("id").channel == Case.Channel.RESIDENT


def test_a_dispatcher_keeps_the_choice(login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    html = dispatcher.get(NEW).content.decode()
    assert 'name="channel"' in html and "来访" in html
    assert 'value="external"' not in html  # only an external system reports through it
    r = dispatcher.post(NEW, form(spot, "ch-3", channel=Case.Channel.WALK_IN))
    assert r.status_code == 302
    assert Case.objects.latest("id").channel == Case.Channel.WALK_IN
    r = dispatcher.post(NEW, form(spot, "ch-4"))  # a choice it must make
    assert r.status_code == 200 and "channel" in r.context["form"].errors


@pytest.mark.parametrize(("roles", "superuser", "expected"), [
    ({Role.GRID_WORKER}, False, Case.Channel.GRID_WORKER),
    (set(), False, Case.Channel.RESIDENT),
    (set(), True, None),
    ({Role.DISPATCHER}, False, None),
    ({Role.STATION_STAFF}, False, None),
    ({Role.GRID_WORKER, Role.STATION_STAFF}, False, None),  # at the desk, they choose
    ({Role.DEPARTMENT_STAFF}, False, None),
])
def test_who_reports_as_themselves(django_user_model, roles: set[str], superuser: bool,
                                   expected: str | None) -> None:
    user = django_user_model.objects.create(username="test-roles", is_superuser=superuser)
    person = Person.objects.create(name="测试", user=user)
    grid = Grid.objects.get(name="胜利社区第1网格")
    for role in roles:
        if role == Role.GRID_WORKER:
            do_assign_role(person, role, grid, employment="part_time")
        elif role == Role.DEPARTMENT_STAFF:
            do_assign_role(person, role, Grid.objects.get(level=0),
                           department=Department.objects.get(code="water"))
        else:
            do_assign_role(person, role, grid.parent)
    assert own_channel(django_user_model.objects.get(pk=user.pk)) == expected


def test_a_retried_submit_makes_one_case_and_both_land_on_its_success_page(
        login_as, spot) -> None:
    worker = login_as("gridworker")
    before = Case.objects.count()
    r1 = worker.post(NEW, {**form(spot, "retry-1"), "photos": upload()})
    r2 = worker.post(NEW, {**form(spot, "retry-1"), "photos": upload()})  # the network's retry
    assert r1.status_code == r2.status_code == 302 and r1["Location"] == r2["Location"]
    assert Case.objects.count() == before + 1
    case = Case.objects.latest("id")
    assert r1["Location"] == f"/console/cases/{case.register_no}/reported/"
    assert case.photos.count() == 1


def test_the_success_page_shows_the_number_and_the_follow_code(login_as, spot) -> None:
    worker = login_as("gridworker")
    r = worker.post(NEW, form(spot, "ok-1"), follow=True)
    case = Case.objects.latest("id")
    html = r.content.decode()
    assert r.status_code == 200 and "上报成功" in html
    assert case.register_no in html and case.follow_code in html
    assert f'href="/console/cases/{case.register_no}/"' in html  # the way to the case
    # nobody else opens this session's success page, not even the dispatcher
    assert login_as("dispatcher").get(f"/console/cases/{case.register_no}/reported/"
                                      ).status_code == 404
    assert worker.get("/console/cases/NOPE-1/reported/").status_code == 404


def test_a_confidential_report_still_gets_its_number_but_no_link(login_as, spot) -> None:
    worker = login_as("gridworker")
    r = worker.post(NEW, form(spot, "secret-1", category="1201", title="可疑人员出没"),
                    follow=True)
    case = Case.objects.latest("id")
    html = r.content.decode()
    assert case.confidential and case.register_no in html and case.follow_code in html
    assert "可疑人员出没" not in html and "涉密" in html
    assert f'href="/console/cases/{case.register_no}/"' not in html


def test_photos_are_kept_after_a_validation_error(login_as, spot) -> None:
    worker = login_as("gridworker")
    before = Case.objects.count()
    r = worker.post(NEW, {**form(spot, "keep-1", title=""),
                          "photos": [upload("orange", "a.jpg"), upload("navy", "b.jpg")]})
    html = r.content.decode()
    assert r.status_code == 200 and Case.objects.count() == before
    names = kept_names(html)
    assert len(names) == 2 and html.count('src="data:image/jpeg;base64,') == 2
    # the retry sends no file again, keeps one of the two and adds a third
    r = worker.post(NEW, {**form(spot, "keep-1"), "kept_photo": names[:1],
                          "photos": [upload("green", "c.jpg")]})
    assert r.status_code == 302 and Case.objects.count() == before + 1
    case = Case.objects.latest("id")
    assert case.photos.count() == 2 and case.photos.first().sha256 != ""


def test_the_same_photo_chosen_again_is_stored_once(login_as, spot) -> None:
    worker = login_as("gridworker")
    r = worker.post(NEW, {**form(spot, "keep-2", title=""), "photos": upload()})
    names = kept_names(r.content.decode())
    r = worker.post(NEW, {**form(spot, "keep-2"), "kept_photo": names, "photos": upload()})
    assert r.status_code == 302 and Case.objects.latest("id").photos.count() == 1


def test_a_bad_file_is_named_and_the_good_photo_kept(login_as, spot) -> None:
    worker = login_as("gridworker")
    before = Case.objects.count()
    bad = SimpleUploadedFile("x.jpg", b"not a picture at all", content_type="image/jpeg")
    r = worker.post(NEW, {**form(spot, "keep-3"), "photos": [upload(), bad]})
    html = r.content.decode()
    assert r.status_code == 200 and Case.objects.count() == before
    assert "不是可识别的图片" in html and len(kept_names(html)) == 1


def test_a_point_outside_the_territory_is_said_in_chinese_and_keeps_the_photo(
        login_as) -> None:
    worker = login_as("gridworker")
    r = worker.post(NEW, {**form((0.5, 0.5), "keep-4"), "photos": upload()})
    html = r.content.decode()
    assert r.status_code == 200 and "不在本平台的辖区内" in html
    assert len(kept_names(html)) == 1


def test_kept_photos_are_the_reporters_own(login_as, spot) -> None:
    worker, dispatcher = login_as("gridworker"), login_as("dispatcher")
    names = kept_names(worker.post(NEW, {**form(spot, "keep-5", title=""),
                                         "photos": upload()}).content.decode())
    r = dispatcher.post(NEW, {**form(spot, "keep-5", channel="station"), "kept_photo": names})
    assert r.status_code == 302 and Case.objects.latest("id").photos.count() == 0
    forged = worker.post(NEW, {**form(spot, "keep-6"), "kept_photo": ["../../secret_key"]})
    assert forged.status_code == 302 and Case.objects.latest("id").photos.count() == 0


def test_the_form_carries_the_map_and_the_location_script(login_as) -> None:
    html = login_as("gridworker").get(NEW).content.decode()
    assert "cases/report.js" in html and "leaflet/leaflet.js" in html
    assert 'id="report-map"' in html and "data-denied=" in html
    assert "<script>" not in html and "style=" not in html  # CSP: nothing inline
