"""/report/: a resident reports from a QR code or directly, without a login."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from PIL import Image

from wangge.cases.actions import do_seed_public_categories
from wangge.cases.errors import CaseError
from wangge.cases.models import Case, CaseCategory, CaseEvent, PublicCategory, ResidentReport
from wangge.registry.models import Building

pytestmark = pytest.mark.django_db

CATEGORIES = Path(__file__).resolve().parent.parent / "public_categories.json"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    """The abuse counters live in the (per-process) cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def building() -> Building:
    found = Building.objects.exclude(qr_token="").select_related("grid").order_by("pk").first()
    assert found is not None
    return found


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def form_data(client: Client, url: str = "/report/", **fields: Any) -> dict[str, Any]:
    """The form as the page serves it (its client key), with the fields filled in."""
    page = client.get(url)
    assert page.status_code == 200
    key = page.context["form"]["client_key"].value()
    data = {"client_key": key, "contact_mode": "contact", "where": "point",
            "public_category": "drain-blocked", "description": "井口冒水"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_every_public_category_maps_to_a_public_small_class() -> None:
    rows = json.loads(CATEGORIES.read_text(encoding="utf-8"))
    assert 20 <= len(rows) <= 30
    for row in rows:
        small = CaseCategory.objects.get(code=row["category"])
        assert small.parent_id is not None and not small.confidential, row["code"]
    assert PublicCategory.objects.filter(code__in=[r["code"] for r in rows]).count() == len(rows)
    # seeding again changes nothing (an upsert by code)
    assert do_seed_public_categories() == len(rows)
    assert PublicCategory.objects.filter(code__in=[r["code"] for r in rows]).count() == len(rows)


def test_seeding_a_confidential_class_is_refused() -> None:
    secret = CaseCategory.objects.filter(confidential=True, parent__isnull=False).first()
    with pytest.raises(CaseError):
        do_seed_public_categories([{"code": "x-secret", "name": "x", "group": "g",
                                    "category": secret.code}])
    assert not PublicCategory.objects.filter(code="x-secret").exists()


def test_report_from_a_building_code_takes_the_building_and_its_grid(building) -> None:
    client = Client()
    url = f"/report/?t={building.qr_token}"
    page = client.get(url)
    assert "下水道堵了" in page.content.decode() and building.name in page.content.decode()
    data = form_data(client, url, where="building", t=building.qr_token,
                     **{"attr__drain-blocked__severity": "overflow"})
    answer = client.post("/report/", {**data, "photos": [io.BytesIO(png())]})
    assert answer.status_code == 302 and answer["Location"] == "/report/done/"
    row = ResidentReport.objects.select_related("case").get(client_key=data["client_key"])
    case = row.case
    assert row.building_id == building.pk and case.grid_id == building.grid_id
    assert (case.lng, case.lat) == (building.lng, building.lat)
    assert row.source == "qr" and row.anonymous and case.channel == "resident"
    assert row.attributes == {"severity": "overflow"} and case.photos.count() == 1
    done = client.get("/report/done/").content.decode()
    assert case.register_no in done and case.follow_code in done
    assert client.session["resident_cases"][case.register_no] == case.follow_code


def test_report_with_a_point_and_a_phone_seals_the_phone(spot) -> None:
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1], contact_name="王小明",
                     contact_phone="13912345678", public_category="streetlight-out")
    assert client.post("/report/", data).status_code == 302
    row = ResidentReport.objects.get(client_key=data["client_key"])
    assert row.phone_masked == "139****5678" and not row.anonymous
    assert b"13912345678" not in bytes(row.phone_enc) and row.source == "web"
    done = client.get("/report/done/").content.decode()
    assert "13912345678" not in done and "139****5678" not in done and "王小明" not in done
    case = row.case
    assert "13912345678" not in json.dumps([e.data for e in case.events.all()])
    assert case.grid.name == "胜利社区第1网格"


def test_anonymous_choice_keeps_no_contact_even_if_typed(spot) -> None:
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1], contact_mode="anonymous",
                     contact_phone="13912345678", contact_name="王小明")
    assert client.post("/report/", data).status_code == 302
    row = ResidentReport.objects.get(client_key=data["client_key"])
    assert row.anonymous and not row.phone_masked and row.phone_enc is None


@pytest.mark.parametrize(("fields", "named"), [
    ({"public_category": None}, "public_category"),
    ({"lng": 10.0, "lat": 10.0}, "where"),
    ({}, "where"),  # "point" with no point
    ({"contact_phone": "12"}, "contact_phone"),
    ({"public_category": "no-such-kind"}, "public_category"),
])
def test_bad_input_is_422_naming_the_field_and_makes_nothing(fields, named) -> None:
    client = Client()
    data = form_data(client, **fields)
    before = Case.objects.count()
    answer = client.post("/report/", data)
    assert answer.status_code == 422
    assert answer.context["form"].errors.get(named), answer.context["form"].errors
    assert f'id="field-{named}"' in answer.content.decode()
    assert Case.objects.count() == before


def test_no_point_says_how_to_give_one() -> None:
    client = Client()
    answer = client.post("/report/", form_data(client))
    assert answer.status_code == 422
    assert "使用我现在的位置" in answer.context["form"].errors["where"][0]


def test_a_description_over_the_limit_is_refused(spot, settings) -> None:
    settings.WANGGE_RESIDENT_DESCRIPTION_MAX = 10
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1], description="很" * 11)
    answer = client.post("/report/", data)
    assert answer.status_code == 422 and "最多 10 个字" in answer.content.decode()


def test_a_broken_photo_is_named_in_chinese(spot) -> None:
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1])
    before = Case.objects.count()
    answer = client.post("/report/", {**data, "photos": [io.BytesIO(b"not a picture")]})
    assert answer.status_code == 422 and Case.objects.count() == before
    assert "照片：" in answer.context["form"].errors["photos"][0]


def test_the_same_form_sent_twice_makes_one_case(spot) -> None:
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1])
    before = Case.objects.count()
    first = client.post("/report/", data)
    again = client.post("/report/", data)  # a double tap or a resend after a network error
    assert first.status_code == again.status_code == 302
    assert Case.objects.count() == before + 1
    # the same key from elsewhere makes nothing and learns nothing (not the follow code)
    elsewhere = Client().post("/report/", data)
    assert elsewhere.status_code == 409 and Case.objects.count() == before + 1
    case = ResidentReport.objects.get(client_key=data["client_key"]).case
    assert case.follow_code not in elsewhere.content.decode()
    assert case.register_no not in elsewhere.content.decode()


def test_a_key_that_is_not_the_pages_own_is_refused(spot) -> None:
    """A form cannot name another channel's key (an Open311 client's `o311:<user>:<key>`)
    and read that case's number and follow code back."""
    client = Client()
    data = form_data(client, lng=spot[0], lat=spot[1], client_key="o311:1:ORDER-0001")
    before = Case.objects.count()
    answer = client.post("/report/", data)
    assert answer.status_code == 422 and "表单已失效" in answer.content.decode()
    assert Case.objects.count() == before


def test_a_case_nearby_is_offered_and_following_it_is_recorded(spot) -> None:
    first = Client()
    assert first.post("/report/", form_data(first, lng=spot[0], lat=spot[1])).status_code == 302
    case = ResidentReport.objects.order_by("-pk").first().case
    second = Client()
    data = form_data(second, lng=spot[0], lat=spot[1], contact_phone="13912345678")
    before = Case.objects.count()
    offer = second.post("/report/", data)
    html = offer.content.decode()
    assert offer.status_code == 200 and "已有人报告：关注这一件" in html
    assert "下水道堵了" in html and Case.objects.count() == before
    assert "13912345678" not in html.replace(f'value="{data["contact_phone"]}"', "")
    nearby = second.get("/report/nearby.json", {"public_category": "drain-blocked",
                                                "lng": spot[0], "lat": spot[1]}).json()
    assert nearby["case"]["register_no"] == case.register_no
    assert set(nearby["case"]) == {"register_no", "category", "state", "date"}
    follows = CaseEvent.objects.filter(case=case, action="public_follow").count()
    answer = second.post("/report/follow/", {"register_no": case.register_no})
    assert answer.status_code == 302 and answer["Location"] == f"/cases/status/{case.register_no}"
    second.post("/report/follow/", {"register_no": case.register_no})  # a double tap
    assert CaseEvent.objects.filter(case=case, action="public_follow").count() == follows + 1
    event = CaseEvent.objects.filter(case=case, action="public_follow").last()
    assert event.actor is None and event.data == {}
    assert second.session["followed_cases"] == [case.register_no]
    # "report mine anyway" makes the second case
    mine = second.post("/report/", {**data, "new_anyway": "on"})
    assert mine.status_code == 302 and Case.objects.count() == before + 1


def test_a_confidential_or_closed_case_cannot_be_followed() -> None:
    client = Client()
    secret = Case.objects.filter(confidential=True).first()
    if secret is not None:
        assert client.post("/report/follow/", {"register_no": secret.register_no}
                           ).status_code == 404
    closed = Case.objects.filter(state="closed", confidential=False,
                                 category__public_categories__active=True).first()
    answer = client.post("/report/follow/", {"register_no": closed.register_no})
    assert answer.status_code == 422 and "办结" in answer.content.decode()
    assert not CaseEvent.objects.filter(case=closed, action="public_follow").exists()


def test_markup_in_the_description_is_escaped_on_the_form(spot) -> None:
    client = Client()
    data = form_data(client, lng=10.0, lat=10.0, description="<script>alert(1)</script>")
    answer = client.post("/report/", data)
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html


def test_the_done_page_without_a_report_says_so() -> None:
    answer = Client().get("/report/done/")
    assert answer.status_code == 200 and "没有反映过问题" in answer.content.decode()
    assert 'id="register-no"' not in answer.content.decode()


def test_the_qr_page_leads_to_the_report_form(building) -> None:
    html = Client().get(f"/q/{building.qr_token}").content.decode()
    assert f'href="/report/?t={building.qr_token}"' in html and "我要反映问题" in html
