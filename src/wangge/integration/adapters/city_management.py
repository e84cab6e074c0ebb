"""数字城管: our case as their case file (案卷, GB/T 30428 / CJ/T 214), and its sender
(docs/external-systems.md). 数字城管 sends us no orders, so it takes no replies."""

from __future__ import annotations

from typing import Any

from wangge.cases.models import Case, ExternalOrder
from wangge.integration import mappings
from wangge.integration.adapters import base
from wangge.integration.models import Adapter, CategoryMapping

#: 问题来源, from our channel
SOURCES = {
    Case.Channel.GRID_WORKER: "网格员上报",
    Case.Channel.STATION: "网格员上报",
    Case.Channel.RESIDENT: "公众举报",
    Case.Channel.WALK_IN: "公众举报",
    Case.Channel.EXTERNAL: "热线转办",
}
DEFAULT_SOURCE = "网格员上报"
PROBLEM_TYPES = ("部件", "事件")
DEFAULT_PROBLEM_TYPE = "事件"


def main_class_name(problem_type: str, code: str) -> str:
    """The 大类's name from the shipped table (the mapping row holds its code only)."""
    try:
        return mappings.main_class_name("city_management", problem_type, code)
    except KeyError:
        return ""


def case_file(case: Case, order: ExternalOrder, adapter: Adapter,
              mapping: CategoryMapping) -> dict[str, Any]:
    """The 案卷 for `POST {endpoint}/cases`."""
    problem_type = mapping.their_kind if mapping.their_kind in PROBLEM_TYPES \
        else DEFAULT_PROBLEM_TYPE
    description = case.description.strip()
    return {
        "case_no": order.our_no,
        "source": SOURCES.get(case.channel, DEFAULT_SOURCE),
        "problem_type": problem_type,
        "main_class": {"code": mapping.their_parent_code,
                       "name": main_class_name(problem_type, mapping.their_parent_code)},
        "sub_class": {"code": mapping.their_code, "name": mapping.their_name},
        "location_desc": base.address(case),
        "location": base.location(case),
        "area_code": base.area_code(case.grid),
        "grid_code": case.grid.code,
        # a case file carries no contact: the words never carry one either
        "description": base.free_text(f"{case.title}\n{description}" if description
                                      else case.title, pass_phone=False),
        "images": [a["url"] for a in base.report_attachments(case)],
        "reported_at": base.iso(case.created_at),
        "deadline": base.iso(base.deadline(case)),
    }


class Sender(base.AdapterSender):
    order_path = "/cases"
    number_key = "case_no"

    def format_order(self, case: Case, order: ExternalOrder, adapter: Adapter,
                     mapping: CategoryMapping) -> dict[str, Any]:
        return case_file(case, order, adapter, mapping)

    def check_mapping(self, mapping: CategoryMapping) -> str | None:
        if not mapping.their_parent_code:
            return f"分类映射缺少大类编码：{mapping.category.code} {mapping.category.name}"
        return None
