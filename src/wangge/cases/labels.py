"""How states, actions and the fields they need are called on screen (zh-Hans first)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STATE_LABELS: dict[str, Promise] = {
    "reported": _("已上报"), "registered": _("已登记"), "rejected": _("不予受理"),
    "dispatched": _("已派遣"), "accepted": _("已签收"), "in_progress": _("处置中"),
    "handled": _("已处置"), "verified": _("已核查"), "closed": _("已销号"),
    "evaluated": _("已评价"), "suspended": _("挂账"), "cancelled": _("已撤销"),
    "reply_due": _("待书面答复"),
}
ACTION_LABELS: dict[str, Promise] = {
    "report": _("上报"), "register": _("登记立案"), "reject": _("不予受理"),
    "dispatch": _("派遣"), "accept": _("签收"), "return": _("回退"), "start": _("开始处置"),
    "handle": _("处置反馈"), "verify_pass": _("核查通过"), "verify_fail": _("核查不通过"),
    "close": _("销号"), "evaluate": _("评价回访"), "suspend": _("挂账"),
    "resume": _("恢复办理"), "reply_due": _("转书面答复"), "reply": _("提交书面答复"),
    "escalate": _("上报上级"), "cancel": _("撤销"), "consult": _("集体会商"),
    "assignment_feedback": _("交办反馈"), "assignment_close": _("交办单销号"),
    "supervise": _("督办"), "merge": _("合并至"), "absorb": _("合并重复事件"),
    "photos": _("上传照片"), "sla_warning": _("时限预警"), "sla_breach": _("时限超时"),
    "sla_deadline": _("期限确定"),
    "rate": _("满意度评价"), "reopen": _("不满意重办"),
    "transfer_sent": _("已转外部系统"), "transfer_failed": _("转外部系统失败"),
    "transfer_resend": _("重新转送"), "external_status": _("外部系统反馈"),
    "external_received": _("外部系统来单"), "external_replied": _("已回复外部系统"),
}
FIELD_LABELS: dict[str, Promise] = {
    "reason": _("理由"), "feedback": _("处置情况"), "reply": _("书面答复内容"),
    "closeout_reason": _("销号原因"), "satisfaction": _("满意度"),
    "followup_note": _("回访记录"), "planned_date": _("计划办理日期"),
    "department": _("承办部门（留空按职责清单）"),
}
#: optional fields an action form offers beyond what the step requires
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "dispatch": ("department",), "evaluate": ("followup_note",),
}
