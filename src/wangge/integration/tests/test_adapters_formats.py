"""What we send 12345 and 数字城管, key by key (docs/external-systems.md): a 12345 work order,
a 数字城管 case file, our reply to a 12345 order; the reporter masked unless the adapter
passes the phone on."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from wangge.cases.models import (
    Case,
    CaseClock,
    CasePhoto,
    ExternalOrder,
    Supervision,
)
from wangge.integration.adapters import base, city_management, hotline_12345
from wangge.integration.models import CategoryMapping
from wangge.integration.tests.adapters_peer import (
    Peer,
    make_case,
    resident_report,
    running_peer,
    transfer,
    wire,
)
from wangge.registry.models import Building

pytestmark = pytest.mark.django_db

WORK_ORDER_KEYS = {
    "order_no", "channel", "channel_detail", "appeal_type", "category_code", "category_name",
    "title", "content", "appellant", "phone", "address", "location", "area_code", "grid_code",
    "urgency", "deadline", "reported_at", "attachments",
}
CASE_FILE_KEYS = {
    "case_no", "source", "problem_type", "main_class", "sub_class", "location_desc",
    "location", "area_code", "grid_code", "description", "images", "reported_at", "deadline",
}
REPLY_KEYS = {"order_no", "source_no", "result", "handled_at", "unit", "attachments"}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_URL = "https://wangge.example.org"


@pytest.fixture
def peer() -> Iterator[Peer]:
    with running_peer() as p:
        yield p


def mapping_of(adapter: Any, case: Case) -> CategoryMapping:
    return CategoryMapping.objects.get(adapter=adapter, category=case.category)


def photo(case: Case, stage: str = CasePhoto.Stage.REPORT, color: str = "red") -> CasePhoto:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "JPEG")
    row = CasePhoto(case=case, stage=stage, content_type="image/jpeg", size=len(buf.getvalue()),
                    width=8, height=8, sha256=f"{color}-{stage}".ljust(64, "0"))
    row.file.save("IMG_张三_17090001234.jpg", ContentFile(buf.getvalue()), save=False)
    row.save()
    return row


def test_a_12345_work_order_has_every_key_of_the_contract(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1001")
    now = timezone.now()
    CaseClock.objects.create(case=case, policy="utility_24h_3wd", code="resolve", name="修复",
                             amount=3, unit="working_days", goal="handled", started_at=now,
                             deadline=now + dt.timedelta(days=4),
                             warn_at=now + dt.timedelta(days=3))
    p = photo(case)
    photo(case, CasePhoto.Stage.HANDLE, "blue")  # not a report photo: not attached
    order = transfer(case)
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert set(doc) == WORK_ORDER_KEYS
    assert doc["order_no"] == case.register_no == order.our_no
    assert doc["channel"] == "网格化服务管理平台" and doc["channel_detail"] == "grid_worker"
    assert (doc["appeal_type"], doc["category_code"]) == ("求助", "020101")
    assert doc["category_name"] == "公用事业-供水-停水"
    assert doc["title"] == "胜利路12号停水" and doc["content"].startswith("整栋楼")
    # the grid's name path: town, community, grid (without the community's name again)
    assert doc["address"] == "来龙门街道 胜利社区 第3网格"
    assert doc["location"] == {"lng": case.lng, "lat": case.lat, "crs": "WGS84"}
    assert len(doc["area_code"]) == 12 and doc["area_code"].isdigit()
    assert case.grid.code.startswith(doc["area_code"]) and doc["grid_code"] == case.grid.code
    assert doc["urgency"] == "一般"
    assert doc["deadline"] == timezone.localtime(now + dt.timedelta(days=4)).isoformat(
        timespec="seconds") and doc["deadline"].endswith("+08:00")
    assert dt.datetime.fromisoformat(doc["reported_at"]) == case.created_at.replace(
        microsecond=0)
    [attachment] = doc["attachments"]
    assert attachment["url"].startswith("https://wangge.example.org/integration/attachments/")
    assert attachment["name"] == f"{case.register_no}-report-1.jpg"  # never the upload's name
    with p.file.open("rb") as f:
        import hashlib
        assert attachment["sha256"] == hashlib.sha256(f.read()).hexdigest()


def test_the_grid_worker_reporter_is_masked_unless_the_phone_is_passed_on(peer: Peer) -> None:
    case = make_case("1001")
    order = transfer(case)
    adapter = wire(peer, "hotline_12345")
    person = case.reporter.person
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert doc["appellant"] == person.name[0] + "*" * (len(person.name) - 1)
    if person.work_phone:
        assert "****" in doc["phone"] and doc["phone"] != person.work_phone
    adapter = wire(peer, "hotline_12345", pass_phone=True)
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert doc["appellant"] == person.name and doc["phone"] == (person.work_phone or None)


def test_a_residents_contact_masked_or_passed_on_and_none_when_anonymous(peer: Peer) -> None:
    building = Building.objects.filter(grid__name="胜利社区第3网格").first() \
        or Building.objects.first()
    case = make_case("1001", channel="resident", reporter=None)
    resident_report(case, building=building)
    order = transfer(case)
    adapter = wire(peer, "hotline_12345")
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert (doc["appellant"], doc["phone"]) == ("王**", "170****1234")
    assert doc["address"] == building.address and doc["channel_detail"] == "resident"
    adapter = wire(peer, "hotline_12345", pass_phone=True)
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert (doc["appellant"], doc["phone"]) == ("王小明", "17090001234")

    anonymous = make_case("1001", channel="resident", reporter=None)
    resident_report(anonymous, anonymous=True)
    order = transfer(anonymous)
    doc = hotline_12345.work_order(anonymous, order, adapter, mapping_of(adapter, anonymous))
    assert doc["appellant"] is None and doc["phone"] is None


def test_urgency_follows_cards_and_clocks(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1001")
    order = transfer(case)
    now = timezone.now()

    def urgency() -> str:
        return hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))[
            "urgency"]

    clock = CaseClock.objects.create(
        case=case, policy="utility_24h_3wd", code="on_site", name="到场处置", amount=24,
        unit="hours", goal="in_progress", started_at=now - dt.timedelta(hours=20),
        deadline=now + dt.timedelta(hours=4), warn_at=now - dt.timedelta(hours=1))
    assert urgency() == "紧急"  # in warning
    clock.deadline = now - dt.timedelta(minutes=5)
    clock.save()
    assert urgency() == "特急"  # past its deadline
    clock.delete()
    Supervision.objects.create(case=case, level=Supervision.Level.RED, reason="群众反映强烈",
                               deadline=now.date())
    assert urgency() == "特急"


def test_a_case_without_a_location_or_clock_sends_nulls_not_guesses(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1001", located=False, description="")
    order = transfer(case)
    doc = hotline_12345.work_order(case, order, adapter, mapping_of(adapter, case))
    assert doc["location"] is None and doc["deadline"] is None
    assert doc["content"] == case.title  # their 诉求内容 is required
    assert doc["attachments"] == []


def test_a_city_management_case_file_has_every_key_of_the_contract(peer: Peer) -> None:
    adapter = wire(peer, "city_management")
    case = make_case("0601", to="city_management", title="井盖缺失",
                     description="人民路与建设路口井盖缺失")
    photo(case)
    order = transfer(case, "city_management")
    doc = city_management.case_file(case, order, adapter, mapping_of(adapter, case))
    assert set(doc) == CASE_FILE_KEYS
    assert doc["case_no"] == order.our_no and doc["source"] == "网格员上报"
    assert doc["problem_type"] == "部件"
    assert doc["main_class"] == {"code": "01", "name": "公用设施"}
    assert doc["sub_class"] == {"code": "0101", "name": "上水井盖"}
    assert doc["location_desc"] == "来龙门街道 胜利社区 第3网格"
    assert doc["location"]["crs"] == "WGS84" and len(doc["area_code"]) == 12
    assert doc["description"] == "井盖缺失\n人民路与建设路口井盖缺失"
    [image] = doc["images"]
    assert image.startswith("https://wangge.example.org/integration/attachments/")
    assert doc["reported_at"].endswith("+08:00")


def test_the_reply_to_a_12345_order(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1001", to="water", state="closed")
    order = ExternalOrder.objects.create(
        case=case, system=adapter.system, direction=ExternalOrder.Direction.IN,
        our_no=case.register_no, their_no="GD2026000123", state=ExternalOrder.State.RECEIVED)
    case.events.create(action="handle", from_state="in_progress", to_state="handled",
                       note="已更换阀门，恢复供水")
    photo(case, CasePhoto.Stage.HANDLE, "green")
    photo(case, CasePhoto.Stage.REPORT, "white")  # theirs already: not sent back
    doc = hotline_12345.reply(case, order, adapter)
    assert set(doc) == REPLY_KEYS
    assert doc["order_no"] == "GD2026000123" and doc["source_no"] == case.register_no
    assert doc["result"] == "已更换阀门，恢复供水" and doc["unit"] == "自来水公司"
    assert doc["handled_at"].endswith("+08:00")
    [attachment] = doc["attachments"]
    assert "-handle-1" in attachment["name"]


def test_area_code_and_names_of_grids_above_the_basic_level() -> None:
    from wangge.territory.models import Grid

    community = Grid.objects.get(name="胜利社区")
    town = community.parent
    assert base.area_code(community) == community.code
    assert base.area_code(town) == town.code and len(town.code) == 12
    assert base.grid_names(community) == f"{town.name} 胜利社区"


def test_phones_and_id_numbers_typed_into_the_words_leave_only_with_pass_phone(
        peer: Peer) -> None:
    words = "联系住户17090001234，身份证430281199001011234"
    masked = wire(peer, "hotline_12345")
    case = make_case("1001", description=words)
    order = transfer(case)
    sent = hotline_12345.work_order(case, order, masked, mapping_of(masked, case))["content"]
    assert "17090001234" not in sent and "430281199001011234" not in sent
    assert sent.startswith("联系住户") and "1234" in sent
    passed = wire(peer, "hotline_12345", pass_phone=True)
    assert hotline_12345.work_order(case, order, passed, mapping_of(passed, case))[
        "content"] == words
    city = wire(peer, "city_management")
    manhole = make_case("0601", to="city_management", description=words)
    file = city_management.case_file(manhole, transfer(manhole, "city_management"), city,
                                     mapping_of(city, manhole))
    assert "17090001234" not in file["description"]
