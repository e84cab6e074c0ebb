"""What the public may read about a case, in plain words: the state explained to a resident
(the status page, Open311 `status_notes`), whether it counts as open, and free text with
anything that looks like a phone, an ID number or an e-mail address masked.

One place, so the status page and Open311 say the same thing and can never say more."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wangge.cases.workflow import FINAL, State

#: a resident's words for each state (as cases/_state_words.html)
STATE_WORDS: dict[str, Promise] = {
    State.REPORTED: _("我们已经收到您反映的问题，正在等待中心登记。"),
    State.REGISTERED: _("中心已经核实并登记，正在确定由哪个部门负责办理。"),
    State.DISPATCHED: _("已经交给负责的部门，等待部门接手。"),
    State.ACCEPTED: _("负责的部门已经接手，正在安排人员处理。"),
    State.IN_PROGRESS: _("工作人员正在处理。"),
    State.HANDLED: _("部门报告已经处理完毕，网格员会到现场看一看是否真的解决了。"),
    State.VERIFIED: _("网格员已到现场确认处理结果，即将办结。"),
    State.CLOSED: _("事情已经办结。工作人员可能会回访，听听您是否满意。"),
    State.EVALUATED: _("已经回访并记下您的评价，整个办理过程结束。"),
    State.REPLY_DUE: _("这件事需要书面答复，部门正在准备；答复后凭关注码可以在本页查看。"),
    State.SUSPENDED: _("暂时没有条件解决（例如需要等待资金或规划），"
                       "已经登记在案，条件具备后继续办理。"),
    State.REJECTED: _("这件事不在受理范围内（例如应通过其他途径办理），"
                      "不再办理。如有疑问，请联系您的网格员。"),
    State.CANCELLED: _("这条上报已撤销（例如重复上报或信息有误），不再办理。"),
}


def is_open(state: str) -> bool:
    """Open311's open/closed: closed once the loop is done (closed, evaluated, rejected,
    cancelled); a case reopened for rework is open again."""
    return state not in FINAL


# an 18-character ID number (last may be X), an 11-digit mobile, a landline, an e-mail
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
# ASCII only: Python's \w would take the Chinese text around an address into the mask
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)


#: full-width digits, letters, ＋ － ． ＠ → ASCII (what an input method types in 全角)
_FULL_WIDTH = {code: code - 0xFEE0 for code in [
    *range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
    0xFF0B, 0xFF0D, 0xFF0E, 0xFF20]}


def _masked_mobile(digits: str) -> str:
    return digits[:3] + "****" + digits[-4:]


def scrub(text: str) -> str:
    """Free text for a public surface: ID numbers, phones and e-mail addresses masked.
    Names cannot be found by pattern; free text reaches the public only through this and
    only where a surface decided to show it. Full-width digits, letters and ＠＋－．are
    folded to ASCII first, so they are found too (Chinese punctuation stays as it is)."""
    text = text.translate(_FULL_WIDTH)
    text = _ID.sub(lambda m: m[0][:6] + "********" + m[0][-4:], text)
    text = _EMAIL.sub("***@***", text)
    text = _MOBILE.sub(lambda m: _masked_mobile(re.sub(r"\D", "", m[0])[-11:]), text)
    return _LANDLINE.sub("****", text)
