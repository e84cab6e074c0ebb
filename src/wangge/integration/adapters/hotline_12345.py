"""12345市民服务热线: our case as their work order (工单, GB/T 33358 practice), our reply to an
order they sent us, and the sender of both (docs/external-systems.md)."""

from __future__ import annotations

from typing import Any

from wangge.cases.models import Case, ExternalOrder
from wangge.integration.adapters import base
from wangge.integration.models import Adapter, CategoryMapping

#: 诉求类型: the mapping's `their_kind` when it is one of these, else 求助
APPEAL_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
DEFAULT_APPEAL_TYPE = "求助"
#: 来源渠道: we are one channel of theirs
CHANNEL = "网格化服务管理平台"
#: our department when none handled the case (the grid's own people did)
DEFAULT_UNIT = "网格化服务管理中心"


def work_order(case: Case, order: ExternalOrder, adapter: Adapter,
               mapping: CategoryMapping) -> dict[str, Any]:
    """The 工单 for `POST {endpoint}/work-orders`."""
    pass_phone = bool(adapter.option("pass_phone", False))
    who = base.contact(case, pass_phone=pass_phone)
    return {
        "order_no": order.our_no,
        "channel": CHANNEL,
        "channel_detail": case.channel,
        "appeal_type": mapping.their_kind if mapping.their_kind in APPEAL_TYPES
        else DEFAULT_APPEAL_TYPE,
        "category_code": mapping.their_code,
        "category_name": mapping.their_name,
        "title": base.free_text(case.title, pass_phone=pass_phone),
        # their 诉求内容 is required: a case reported with a title only says it there
        "content": base.free_text(case.description.strip() or case.title,
                                  pass_phone=pass_phone),
        "appellant": who.name,
        "phone": who.phone,
        "address": base.address(case),
        "location": base.location(case),
        "area_code": base.area_code(case.grid),
        "grid_code": case.grid.code,
        "urgency": base.urgency_word(case),
        "deadline": base.iso(base.deadline(case)),
        "reported_at": base.iso(case.created_at),
        "attachments": base.report_attachments(case),
    }


def reply(case: Case, order: ExternalOrder, adapter: Adapter) -> dict[str, Any]:
    """Our handling result for `POST {endpoint}/work-orders/{their_no}/reply`."""
    result, handled_at = base.handling_result(case)
    return {
        "order_no": order.their_no,
        "source_no": case.register_no,
        "result": result,
        "handled_at": base.iso(handled_at),
        "unit": case.department.name if case.department_id else DEFAULT_UNIT,
        "attachments": base.handling_attachments(case),
    }


class Sender(base.AdapterSender):
    order_path = "/work-orders"
    number_key = "order_no"
    takes_replies = True

    def format_order(self, case: Case, order: ExternalOrder, adapter: Adapter,
                     mapping: CategoryMapping) -> dict[str, Any]:
        return work_order(case, order, adapter, mapping)

    def format_reply(self, case: Case, order: ExternalOrder,
                     adapter: Adapter) -> dict[str, Any]:
        return reply(case, order, adapter)
