"""The service hall's public pages as a resident without a login meets them: search, the
guide, applying online (a bad ID number named, a double submit making one application),
asking the grid worker from a QR code (it lands in that grid's worker's plan), the status
page (a wrong follow code is a 404), corrections after a return, the rating after delivery,
and the hourly cap per address."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from wangge.fieldwork.models import Appointment
from wangge.org.models import Role, RoleAssignment
from wangge.registry.identity import make_id_number
from wangge.registry.models import Building
from wangge.services.actions import applications
from wangge.services.actions.catalogue import do_import_catalogue
from wangge.services.models import Application, ProxyRequest, ServiceItem
from wangge.services.tests.catalogue_helpers import item_row
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

CODE = "PUB-0001"
NAME = "银发优待证办理与年审（公开页测试）"
ID_NUMBER = make_id_number("430281", dt.date(1950, 3, 4), 7, "female")


def _row(code: str = CODE, **over: Any) -> dict[str, Any]:
    """The catalogue tests' item under this module's own name and alias (so searches here
    find this item, not the demo's 老年证)."""
    return item_row(code, **{"name": NAME, "aliases": ["银发证"],
                             "legal_basis": "《湖南省老年人权益保障条例》（测试）", **over})


@pytest.fixture
def item() -> ServiceItem:
    cache.clear()  # the hourly cap and the popular list live in the cache
    report = do_import_catalogue([_row(), _row("PUB-0002", name="窗口专办事项（公开页测试）",
                                               aliases=[], in_person_times=1,
                                               online_prereview=False, proxy_eligible=False,
                                               events=["business"])], None)
    assert not report.errors, report.errors
    return ServiceItem.objects.get(code=CODE)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _token(html: str) -> str:
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert found, "the form carries a token"
    return found.group(1)


def _worker_grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


# ---------------------------------------------------------------------------- search


def test_search_page_finds_the_item_with_badges_and_the_total(item: ServiceItem) -> None:
    client = Client()
    page = client.get("/services/", {"q": "银发优待证"})
    html = page.content.decode()
    assert page.status_code == 200
    assert NAME in html and "民政" in html
    assert "可代办" in html and "可网上预审" in html
    assert re.search(r"共 \d+ 项", html)
    assert f"/services/items/{CODE}/" in html
    # the chips and the filters are there without JavaScript
    assert "养老" in html and 'name="department"' in html and "可上门代办" in html


def test_search_json_answers_what_the_typing_shows(item: ServiceItem) -> None:
    data = Client().get("/services/search.json", {"q": "银发优待证"}).json()
    assert data["total"] >= 1
    row = next(r for r in data["items"] if r["code"] == CODE)
    assert row == {"code": CODE, "name": NAME, "department": item.department.name,
                   "proxy": True, "online": True}


def test_filters_narrow_the_results(item: ServiceItem) -> None:
    client = Client()
    proxy_only = client.get("/services/search.json", {"q": "公开页测试", "proxy": "1"}).json()
    assert [r["code"] for r in proxy_only["items"]] == [CODE]
    business = client.get("/services/search.json", {"q": "公开页测试", "event": "business"}).json()
    assert [r["code"] for r in business["items"]] == ["PUB-0002"]
    # nonsense filters and pages are ignored, never a 500
    odd = client.get("/services/", {"event": "<x>", "page": "abc", "type": "zzz"})
    assert odd.status_code == 200


def test_the_empty_hall_shows_popular_items(item: ServiceItem) -> None:
    html = Client().get("/services/").content.decode()
    assert "常办事项" in html


# ---------------------------------------------------------------------------- the guide


def test_guide_shows_everything_a_resident_needs(item: ServiceItem) -> None:
    html = Client().get(f"/services/items/{CODE}/").content.decode()
    for text in (NAME, "年满60周岁的本市户籍老年人", "居民身份证", "原件", "电子件", "复印件",
                 "2 份", "必须提供", "特定情形提供", "身份证地址不在本市的", "查验后退还",
                 "制证", "20 个工作日", "5 个工作日", "不收费", "各乡镇（街道）便民服务中心",
                 "工作日 8:30-12:00 14:30-17:30", "0731-23456789", "一次都不用跑",
                 "年审需要本人到场吗？", "不需要，可由网格员上门代办。", "指南版本 v1",
                 "网上预审", "请网格员帮我办"):
        assert text in html, text
    assert f"/services/items/{CODE}/apply/" in html
    assert f"/services/items/{CODE}/proxy/" in html


def test_a_window_only_item_offers_neither_button(item: ServiceItem) -> None:
    html = Client().get("/services/items/PUB-0002/").content.decode()
    assert "最多跑 1 次" in html
    assert "/apply/" not in html and "/proxy/" not in html
    assert Client().get("/services/items/PUB-0002/apply/").status_code == 404
    assert Client().get("/services/items/PUB-0002/proxy/").status_code == 404
    assert Client().get("/services/items/NO-SUCH/").status_code == 404


# ---------------------------------------------------------------------------- apply online


def _open(client: Client, **over: str) -> Any:
    token = _token(client.get(f"/services/items/{CODE}/apply/").content.decode())
    data = {"form_token": token, "name": "刘桂英", "id_number": ID_NUMBER,
            "phone": "13800138000", **over}
    return client.post(f"/services/items/{CODE}/apply/", data), data


def test_a_bad_id_number_is_named_and_nothing_is_written(item: ServiceItem) -> None:
    before = Application.objects.count()
    client = Client()
    answer, _data = _open(client, id_number=ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0"
                                                              else "1"))
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "身份证号码：最后一位校验码不对" in html
    short, _data = _open(client, id_number="43028119500304")
    assert "身份证号码：应为18位，您填写了14位。" in short.content.decode()
    bad_phone, _data = _open(client, phone="12345")
    assert "手机号码：" in bad_phone.content.decode()
    assert Application.objects.count() == before


def test_apply_upload_submit_and_a_double_submit_make_one_application(
        item: ServiceItem) -> None:
    before = Application.objects.count()
    client = Client()
    first, data = _open(client)
    assert first.status_code == 302
    again = client.post(f"/services/items/{CODE}/apply/", data)  # a double tap / reload
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Application.objects.count() == before + 1
    application = Application.objects.latest("pk")
    assert application.id_number_masked.startswith("430281") and "*" in application.id_number_masked
    assert application.channel == Application.Channel.PUBLIC

    page = client.get(first["Location"]).content.decode()
    assert "居民身份证" in page and "提交预审" in page
    missing = client.post(f"/services/applications/{application.no}/submit/", follow=True)
    assert "还缺少材料：居民身份证、近期一寸免冠照片" in missing.content.decode()

    fake = client.post(f"/services/applications/{application.no}/upload/", {
        "material_key": "id_card",
        "file": _file(b"<html>not a photo</html>", "id.jpg")}, follow=True)
    assert "居民身份证：只接受" in fake.content.decode()
    for key in ("id_card", "photo"):
        up = client.post(f"/services/applications/{application.no}/upload/",
                         {"material_key": key, "file": _file(_png(), f"{key}.png")})
        assert up.status_code == 302
    done = client.post(f"/services/applications/{application.no}/submit/")
    assert done.status_code == 302 and done["Location"].endswith("/done/")
    twice = client.post(f"/services/applications/{application.no}/submit/")
    assert twice.status_code == 302 and twice["Location"] == done["Location"]
    result = client.get(done["Location"]).content.decode()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.no in result and application.follow_code in result
    assert "请保存好" in result
    assert Application.objects.count() == before + 1


def _file(raw: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, raw, content_type="image/jpeg")


def _submitted(client: Client) -> Application:
    _open(client)
    application = Application.objects.latest("pk")
    for key in ("id_card", "photo"):
        client.post(f"/services/applications/{application.no}/upload/",
                    {"material_key": key, "file": _file(_png(), f"{key}.png")})
    client.post(f"/services/applications/{application.no}/submit/")
    application.refresh_from_db()
    return application


def test_status_needs_the_follow_code(item: ServiceItem) -> None:
    application = _submitted(Client())
    stranger = Client()
    wrong = stranger.get("/services/status/", {"no": application.no, "code": "WRONG1"})
    assert wrong.status_code == 404
    assert "编号或查询码不对" in wrong.content.decode()
    assert stranger.get("/services/status/", {"no": application.no}).status_code == 404
    # nor can the stranger reach its materials page or upload to it
    assert stranger.get(f"/services/applications/{application.no}/").status_code == 404
    assert stranger.post(f"/services/applications/{application.no}/submit/").status_code == 404
    right = stranger.post("/services/status/", {"no": application.no,
                                                "code": application.follow_code.lower()})
    # the code never stays in an address: the browser is sent on to the number alone
    assert right.status_code == 303 and right["Location"].endswith(f"?no={application.no}")
    right = stranger.get(right["Location"])
    html = right.content.decode()
    assert right.status_code == 200
    assert "待预审" in html and "提交预审" in html and "居民身份证" in html
    assert "刘桂英" not in html  # no name on the status page
    assert ID_NUMBER not in html


def test_a_returned_application_is_corrected_and_resubmitted(item: ServiceItem) -> None:
    resident = Client()
    application = _submitted(resident)
    reviewer = get_user_model().objects.get(username="civil_affairs")
    applications.do_check_material(reviewer, application, "id_card", "accepted")
    applications.do_check_material(reviewer, application, "photo", "correct", "照片模糊，请重拍")
    applications.do_decide(reviewer, application, "return")

    html = resident.get("/services/status/", {"no": application.no}).content.decode()
    assert "退回补正" in html and "照片模糊，请重拍" in html and "上传补正材料" in html
    page = resident.get(f"/services/applications/{application.no}/").content.decode()
    assert page.count('name="material_key"') == 1  # only the photo is asked for again
    resident.post(f"/services/applications/{application.no}/upload/",
                  {"material_key": "photo", "file": _file(_png() + b"", "new.png")})
    resident.post(f"/services/applications/{application.no}/submit/")
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED and application.round == 2


# ---------------------------------------------------------------------------- ask my worker


def _responsible(grid: Grid) -> Any:
    return RoleAssignment.objects.get(grid=grid, role=Role.GRID_WORKER, responsible=True,
                                      ended_on__isnull=True).person


def _book(client: Client, query: dict[str, str], **over: str) -> Any:
    page = client.get(f"/services/items/{CODE}/proxy/", query)
    assert page.status_code == 200
    data = {"form_token": _token(page.content.decode()), "name": "王秀兰",
            "phone": "13912345678", "note": "腿脚不便，上午在家", **query, **over}
    return client.post(f"/services/items/{CODE}/proxy/", data)


def test_booking_from_a_qr_code_lands_in_that_grids_worker_plan(item: ServiceItem) -> None:
    grid = _worker_grid()
    worker = _responsible(grid)
    client = Client()
    form = client.get(f"/services/items/{CODE}/proxy/", {"t": grid.qr_token}).content.decode()
    assert worker.name in form and grid.name in form
    answer = _book(client, {"t": grid.qr_token})
    assert answer.status_code == 302
    booked = ProxyRequest.objects.latest("pk")
    assert booked.grid == grid and booked.worker == worker
    assert booked.channel == ProxyRequest.Channel.QR
    assert booked.phone_masked == "139****5678"
    appointment = Appointment.objects.get(pk=booked.appointment_id)
    assert appointment.worker == worker and appointment.purpose == Appointment.Purpose.PROXY

    from wangge.fieldwork.actions.plan import build_day_plan
    from wangge.fieldwork.models import PlanItem

    plan = build_day_plan(worker, timezone.localtime(appointment.at).date())
    assert PlanItem.objects.filter(plan=plan, appointment_id=appointment.pk).exists()

    result = client.get(answer["Location"]).content.decode()
    assert booked.no in result and booked.follow_code in result and worker.name in result
    assert "请保存好" in result


def test_a_double_tap_books_once(item: ServiceItem) -> None:
    grid = _worker_grid()
    client = Client()
    page = client.get(f"/services/items/{CODE}/proxy/", {"t": grid.qr_token})
    data = {"form_token": _token(page.content.decode()), "name": "王秀兰",
            "phone": "13912345678", "t": grid.qr_token}
    before = ProxyRequest.objects.count()
    first = client.post(f"/services/items/{CODE}/proxy/", data)
    second = client.post(f"/services/items/{CODE}/proxy/", data)
    assert first["Location"] == second["Location"]
    assert ProxyRequest.objects.count() == before + 1


def test_a_building_code_offers_its_doors(item: ServiceItem) -> None:
    building = Building.objects.filter(grid=_worker_grid()).exclude(qr_token="").order_by(
        "pk").first()
    house = building.houses.order_by("number").first()
    client = Client()
    page = client.get(f"/services/items/{CODE}/proxy/", {"t": building.qr_token})
    assert building.name in page.content.decode() and house.number in page.content.decode()
    answer = _book(client, {"t": building.qr_token}, house=str(house.pk))
    assert answer.status_code == 302
    booked = ProxyRequest.objects.latest("pk")
    assert booked.house == house and booked.grid == building.grid


def test_without_a_code_the_resident_picks_community_then_grid(item: ServiceItem) -> None:
    grid = _worker_grid()
    client = Client()
    first = client.get(f"/services/items/{CODE}/proxy/").content.decode()
    assert grid.parent.name in first and 'name="community"' in first
    second = client.get(f"/services/items/{CODE}/proxy/",
                        {"community": grid.parent.code}).content.decode()
    assert grid.name in second and 'name="grid"' in second
    answer = _book(client, {"grid": grid.code})
    assert answer.status_code == 302
    booked = ProxyRequest.objects.latest("pk")
    assert booked.grid == grid and booked.channel == ProxyRequest.Channel.GUIDE


def test_booking_names_the_field_it_refuses(item: ServiceItem) -> None:
    grid = _worker_grid()
    before = ProxyRequest.objects.count()
    answer = _book(Client(), {"t": grid.qr_token}, phone="123", at="2001-01-01T09:00")
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "联系电话：" in html and "希望上门的时间：" in html
    assert ProxyRequest.objects.count() == before


def test_rating_after_delivery(item: ServiceItem) -> None:
    grid = _worker_grid()
    client = Client()
    _book(client, {"t": grid.qr_token})
    booked = ProxyRequest.objects.latest("pk")
    early = client.post(f"/services/proxies/{booked.no}/rate/", {"rating": "5"}, follow=True)
    assert "已预约" in early.content.decode()
    booked.refresh_from_db()
    assert booked.rating is None
    # the worker delivered it (the door steps are the proxy slice's, tested there)
    ProxyRequest.objects.filter(pk=booked.pk).update(state=ProxyRequest.State.DELIVERED)
    stranger = Client()
    assert stranger.post(f"/services/proxies/{booked.no}/rate/",
                         {"rating": "1"}).status_code == 404
    status = stranger.post("/services/status/", {"no": booked.no, "code": booked.follow_code},
                           follow=True)
    html = status.content.decode()
    assert "这次代办您满意吗？" in html and "非常满意" in html
    assert _responsible(grid).name in html
    rated = stranger.post(f"/services/proxies/{booked.no}/rate/",
                          {"rating": "5", "comment": "网格员很耐心"}, follow=True)
    booked.refresh_from_db()
    assert booked.state == ProxyRequest.State.RATED and booked.rating == 5
    assert booked.rating_comment == "网格员很耐心"
    assert "您的评价：非常满意" in rated.content.decode()


# ---------------------------------------------------------------------------- abuse


@override_settings(WANGGE_SERVICES_PUBLIC_PER_HOUR=2)
def test_creates_are_capped_per_address_per_hour(item: ServiceItem) -> None:
    grid = _worker_grid()
    before = ProxyRequest.objects.count()
    for _i in range(2):
        assert _book(Client(), {"t": grid.qr_token}).status_code == 302
    third = _book(Client(), {"t": grid.qr_token})
    assert third.status_code == 429
    assert "每小时最多提交 2 次" in third.content.decode()
    assert ProxyRequest.objects.count() == before + 2
    applied, _data = _open(Client())
    assert applied.status_code == 429  # applications count against the same cap
    other = _book(Client(REMOTE_ADDR="198.51.100.20"), {"t": grid.qr_token})
    assert other.status_code == 302  # another address is not held back


def test_the_qr_page_leads_to_the_hall_with_its_token(item: ServiceItem) -> None:
    grid = _worker_grid()
    client = Client()
    html = client.get(f"/q/{grid.qr_token}").content.decode()
    assert "办事指南 / 请网格员帮我办" in html
    assert f'href="/services/?t={grid.qr_token}"' in html
    hall = client.get("/services/", {"t": grid.qr_token, "q": "银发优待证"}).content.decode()
    assert grid.name in hall  # the hall knows where the resident lives
    assert f"/services/items/{CODE}/?t={grid.qr_token}" in hall
    guide = client.get(f"/services/items/{CODE}/", {"t": grid.qr_token}).content.decode()
    assert f"/services/items/{CODE}/proxy/?t={grid.qr_token}" in guide
