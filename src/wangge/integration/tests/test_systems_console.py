"""/console/systems/: the center's dispatchers follow the orders sent to 12345 and 数字城管,
resend a failed one after fixing its mapping, read the calls the systems made to us (refusals
highlighted) and the drift reconciliation found; everybody else is kept out. The case page
says where its orders went."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from wangge.cases.actions import external as case_external
from wangge.cases.models import CaseCategory, ExternalOrder
from wangge.core.models import OutboxMessage
from wangge.integration.actions.external import do_record_inbound, do_set_mapping
from wangge.integration.models import Adapter, CategoryMapping, Delivery, Subscription
from wangge.integration.tests.inbound_support import CODE, make_adapter, transferred

pytestmark = pytest.mark.django_db

LoginAs = Callable[[str], Client]
INDEX = "/console/systems/"
PAGE = f"/console/systems/{CODE}/"
S = ExternalOrder.State


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def words(response: object) -> str:
    """The page as read: no tags."""
    return html.unescape(strip_tags(response.content.decode()))  # type: ignore[attr-defined]


def dead_delivery(order: ExternalOrder, error: str) -> Delivery:
    """The order's send died at the system (what the sender leaves after a 4xx)."""
    message = OutboxMessage.objects.get(topic="external.order", payload__order=order.pk)
    sub = Subscription.objects.get(name=f"adapter:{order.system.code}")
    return Delivery.objects.create(
        message=message, subscription=sub, status=Delivery.Status.DEAD, attempts=1,
        next_attempt_at=timezone.now(), last_attempt_at=timezone.now(),
        last_status_code=400, last_error=error)


def failed_order(reason: str = "400 category_code: unknown code 9999") -> ExternalOrder:
    order = transferred()
    dead_delivery(order, reason)
    return case_external.do_mark_failed(order, reason)


@pytest.fixture
def adapter() -> Adapter:
    return make_adapter()


# --- who may open the pages ---------------------------------------------------------------


@pytest.mark.parametrize(("login", "status"), [
    ("dispatcher", 200), ("center_admin", 200), ("admin", 200),
    ("gridworker", 403), ("station", 403), ("subcenter", 403), ("department", 403),
    ("leader", 403),
])
def test_only_the_centers_dispatchers_and_admins_open_the_pages(
        adapter: Adapter, login_as: LoginAs, login: str, status: int) -> None:
    client = login_as(login)
    assert client.get(INDEX).status_code == status
    assert client.get(PAGE).status_code == status


def test_signed_out_goes_to_login_and_cannot_resend_or_map(adapter: Adapter) -> None:
    order = failed_order()
    anonymous = Client()
    assert anonymous.get(INDEX).status_code == 302
    r = anonymous.post(f"{PAGE}orders/{order.pk}/resend/")
    assert r.status_code == 302 and "/login/" in r["Location"]
    r = anonymous.post(f"{PAGE}mappings/", {"category": "1001", "their_code": "X"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == S.FAILED


def test_a_grid_worker_cannot_resend(adapter: Adapter, login_as: LoginAs) -> None:
    order = failed_order()
    assert login_as("gridworker").post(f"{PAGE}orders/{order.pk}/resend/").status_code == 403
    order.refresh_from_db()
    assert order.state == S.FAILED


def test_the_nav_link_only_for_those_let_in(login_as: LoginAs) -> None:
    assert INDEX in login_as("dispatcher").get("/").content.decode()
    assert INDEX in login_as("center_admin").get("/").content.decode()
    assert INDEX not in login_as("station").get("/").content.decode()
    assert INDEX not in login_as("gridworker").get("/").content.decode()


def test_an_unknown_system_is_404(login_as: LoginAs) -> None:
    assert login_as("dispatcher").get("/console/systems/no-such-system/").status_code == 404
    # a line department is not an external system
    assert login_as("dispatcher").get("/console/systems/water/").status_code == 404


# --- what the pages show ------------------------------------------------------------------


def test_index_lists_each_system_with_its_adapter_and_open_orders(
        adapter: Adapter, login_as: LoginAs) -> None:
    sent = transferred()
    case_external.do_mark_sent(sent, "GD-2026-0001")
    failed_order()
    page = text(login_as("dispatcher").get(INDEX))
    assert "12345市民服务热线" in page and "数字城管系统" in page
    assert adapter.endpoint in page and "启用" in page
    assert "已发送 1" in page and "发送失败 1" in page
    assert "未配置接口" in page  # 数字城管 has no adapter in this test


def test_system_page_shows_orders_in_every_state(adapter: Adapter, login_as: LoginAs) -> None:
    pending = transferred()
    sent = case_external.do_mark_sent(transferred(), "GD-SENT-1")
    handled = case_external.do_mark_sent(transferred(), "GD-HANDLED-1")
    case_external.do_external_status(handled, "已处置", note="已恢复供水")
    failed = failed_order("400 category_code: unknown code 9999")
    page = text(login_as("dispatcher").get(PAGE))
    for order in (pending, sent, handled, failed):
        assert order.our_no in page
        assert order.case.register_no in page
    assert "GD-SENT-1" in page and "GD-HANDLED-1" in page
    for word in ("待发送", "已发送", "已处置", "发送失败"):
        assert word in page
    assert "已恢复供水" in page  # the last exchange's note
    assert "unknown code 9999" in page  # the dead letter's reason
    # one resend button per failed order, in its row and in the dead letters
    assert page.count(f"orders/{failed.pk}/resend/") == 2
    assert f"orders/{pending.pk}/resend/" not in page


def test_refused_inbound_calls_are_highlighted_with_their_reason(
        adapter: Adapter, login_as: LoginAs) -> None:
    do_record_inbound(adapter, kind="callback", outcome="applied", http_status=200,
                      event_id="cb-1", order_no="GD-1", status="受理")
    do_record_inbound(adapter, kind="callback", outcome="refused", http_status=401,
                      reason="signature does not match")
    page = login_as("dispatcher").get(PAGE).content.decode()
    assert 'class="inbound outcome-refused"' in page
    assert "signature does not match" in page and "401" in page
    assert "GD-1" in page and "受理" in page


def test_drift_shows_what_their_side_says(adapter: Adapter, login_as: LoginAs) -> None:
    closed_there = case_external.do_mark_sent(transferred(), "GD-D1")
    missing = case_external.do_mark_sent(transferred(), "GD-D2")
    agrees = case_external.do_mark_sent(transferred(), "GD-D3")
    later = timezone.now() + timedelta(seconds=1)
    case_external.do_record_reconciliation(
        {closed_there.pk: S.CLOSED, missing.pk: "unknown", agrees.pk: S.SENT}, now=later)
    page = text(login_as("dispatcher").get(PAGE))
    assert "对方已结案，我方未收到" in page and "对方无此单" in page
    assert page.count('class="drift-row"') == 2
    index = login_as("dispatcher").get(INDEX).content.decode()
    assert 'class="drift-count"><strong>2</strong>' in index


def test_we_closed_they_did_not_is_drift(adapter: Adapter, login_as: LoginAs) -> None:
    order = case_external.do_mark_sent(transferred(), "GD-R1")
    case_external.do_external_status(order, "结案")
    case_external.do_record_reconciliation({order.pk: S.IN_PROGRESS},
                                           now=timezone.now() + timedelta(seconds=1))
    page = text(login_as("dispatcher").get(PAGE))
    assert "我方已结案，对方未结案（对方：处置中）" in page


def test_a_callback_after_the_check_is_not_drift(adapter: Adapter, login_as: LoginAs) -> None:
    """Reconciliation saw 受理; a call-back then said 已处置: ours is the newer word."""
    order = case_external.do_mark_sent(transferred(), "GD-L1")
    case_external.do_record_reconciliation({order.pk: S.ACCEPTED},
                                           now=timezone.now() - timedelta(minutes=5))
    case_external.do_external_status(order, "已处置")
    assert 'class="drift-row"' not in login_as("dispatcher").get(PAGE).content.decode()


# --- resend -------------------------------------------------------------------------------


def test_resend_puts_the_dead_delivery_and_the_order_back_to_pending(
        adapter: Adapter, login_as: LoginAs) -> None:
    order = failed_order()
    delivery = Delivery.objects.get(status=Delivery.Status.DEAD)
    r = login_as("dispatcher").post(f"{PAGE}orders/{order.pk}/resend/", follow=True)
    assert r.status_code == 200
    assert "已重新排队发送" in text(r)
    order.refresh_from_db()
    delivery.refresh_from_db()
    assert order.state == S.PENDING and order.last_note == ""
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0
    assert order.case.events.filter(action="transfer_resend").exists()
    # resent once: the page offers no second resend
    assert f"orders/{order.pk}/resend/" not in text(login_as("dispatcher").get(PAGE))


def test_resending_an_order_that_did_not_fail_is_refused(
        adapter: Adapter, login_as: LoginAs) -> None:
    order = case_external.do_mark_sent(transferred(), "GD-OK-1")
    r = login_as("dispatcher").post(f"{PAGE}orders/{order.pk}/resend/", follow=True)
    assert "不是发送失败状态" in text(r)
    order.refresh_from_db()
    assert order.state == S.SENT


def test_resend_of_another_systems_order_is_404(adapter: Adapter, login_as: LoginAs) -> None:
    order = failed_order()
    r = login_as("dispatcher").post(f"/console/systems/city_management/orders/{order.pk}/resend/")
    assert r.status_code == 404


# --- the category mapping -----------------------------------------------------------------


def test_the_dispatcher_fixes_a_mapping_then_resends(adapter: Adapter, login_as: LoginAs) -> None:
    category = CaseCategory.objects.get(code="1001")
    do_set_mapping(adapter, category, their_code="9999", their_name="错误分类")
    order = failed_order("400 category_code: unknown code 9999")
    dispatcher = login_as("dispatcher")
    r = dispatcher.post(f"{PAGE}mappings/", {
        "category": "1001", "their_code": "010203", "their_name": "停水",
        "their_kind": "求助"}, follow=True)
    assert r.status_code == 200
    assert "分类映射已保存：1001 → 010203" in text(r)
    mapping = CategoryMapping.objects.get(adapter=adapter, category=category)
    assert (mapping.their_code, mapping.their_name, mapping.their_kind) == (
        "010203", "停水", "求助")
    assert CategoryMapping.objects.filter(adapter=adapter, category=category).count() == 1
    dispatcher.post(f"{PAGE}orders/{order.pk}/resend/")
    order.refresh_from_db()
    assert order.state == S.PENDING


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"category": "1001", "their_code": ""}, "their_code", "对方分类编码"),
    ({"category": "no-such", "their_code": "1"}, "category", "没有编码为 no-such 的事件分类"),
    ({"category": "10", "their_code": "1"}, "category", "是大类"),
    ({"category": "1001", "their_code": "1", "their_kind": "很长很长的诉求类型名称"},
     "their_kind", "对方类型"),
])
def test_a_bad_mapping_names_the_field_and_writes_nothing(
        adapter: Adapter, login_as: LoginAs, body: dict[str, str], field: str,
        words: str) -> None:
    before = list(CategoryMapping.objects.filter(adapter=adapter).values_list(
        "category_id", "their_code"))
    r = login_as("dispatcher").post(f"{PAGE}mappings/", body)
    assert r.status_code == 400
    page = text(r)
    assert f'data-field="{field}"' in page and words in page
    assert list(CategoryMapping.objects.filter(adapter=adapter).values_list(
        "category_id", "their_code")) == before


# --- the case page ------------------------------------------------------------------------


def test_the_case_page_says_where_its_order_went(adapter: Adapter, login_as: LoginAs) -> None:
    order = transferred()
    dispatcher = login_as("dispatcher")
    url = f"/console/cases/{order.case.register_no}/"
    assert "转12345市民服务热线，工单号 待回复" in words(dispatcher.get(url))
    order = case_external.do_mark_sent(order, "GD-2026-0042")
    page = words(dispatcher.get(url))
    sent_at = timezone.localtime(order.sent_at).strftime("%Y-%m-%d %H:%M")
    assert f"转12345市民服务热线，工单号 GD-2026-0042，{sent_at}，状态 已发送" in page


def test_the_case_page_shows_why_an_order_failed_or_was_returned(
        adapter: Adapter, login_as: LoginAs) -> None:
    failed = failed_order("400 category_code: unknown code 9999")
    page = words(login_as("dispatcher").get(f"/console/cases/{failed.case.register_no}/"))
    assert "状态 发送失败" in page and "unknown code 9999" in page
    returned = case_external.do_mark_sent(transferred(), "GD-RET-1")
    with transaction.atomic():
        case_external.do_external_status(returned, "退回", note="不属于本热线受理范围")
    page = words(login_as("dispatcher").get(f"/console/cases/{returned.case.register_no}/"))
    assert "状态 退回" in page and "不属于本热线受理范围" in page


def test_a_case_never_transferred_has_no_transfer_line(login_as: LoginAs) -> None:
    case = ExternalOrder.objects.values_list("case_id", flat=True)
    from wangge.cases.models import Case

    plain = Case.objects.exclude(pk__in=case).order_by("pk").first()
    assert plain is not None
    page = words(login_as("dispatcher").get(f"/console/cases/{plain.register_no}/"))
    assert 'id="external-orders"' not in page


def test_recall_takes_a_failed_orders_case_back_to_dispatch_elsewhere(
        adapter: Adapter, login_as: LoginAs) -> None:
    order = failed_order()
    assert login_as("gridworker").post(f"{PAGE}orders/{order.pk}/recall/").status_code == 403
    r = login_as("dispatcher").post(f"{PAGE}orders/{order.pk}/recall/",
                                    {"reason": "映射无法配置，改派自来水公司"}, follow=True)
    assert r.status_code == 200 and "已收回" in r.content.decode()
    order.case.refresh_from_db()
    assert order.case.state == "registered" and order.case.department is None
    again = login_as("dispatcher").post(f"{PAGE}orders/{order.pk}/recall/", follow=True)
    assert "不能收回" in again.content.decode()
