"""The field app's `disputes` section of the offline bundle (fieldwork.offline, registered in
DisputesConfig.ready): what a grid worker needs on the phone to screen, register a dispute,
record a mediation session and a follow-up without signal.

- `kinds`: the 13 kinds, [code, name, sensitive, money] (money: the form asks the amount)
- `open`: the worker's grid's open disputes they may see (registered, mediating, agreed),
  parties masked: i id, no number, k kind, t subject, s state, l level, r risk,
  p [[role, masked name]], m whether they may record a session now, f whether a
  follow-up is due (agreed), a the agreement of an agreed dispute (调解协议书, to be
  signed on the phone): i id, no number, t terms, by perform_by, w whether this user may
  take the signatures (whoever may mediate it), p [[party id, role, name, signed]] (the
  name masked unless the user sees the parties whole; signed 1/0)
- `screening`: the current period of the grid (`period`, `start`) and whether the grid has
  screened it (`done`, `nil`)
- `labels`: state, level, risk, role, honoured, source (zh-Hans labels, once)

Short keys and no empty values, like the rest of the bundle; the bundle's version is a
hash of its content, so a change here reaches the phone on its next sync."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.disputes import access
from wangge.disputes.actions.screening import period_of
from wangge.disputes.models import (
    Agreement,
    Dispute,
    DisputeKind,
    FollowUp,
    Level,
    Party,
    Risk,
    Signature,
)
from wangge.fieldwork.register_rows import compact
from wangge.territory.models import Grid

#: the states a worker still acts on from the phone
OPEN_STATES = access.OPEN_STATES
#: the states a session may be recorded in (registered: taken up by its mediator)
SESSION_STATES = (Dispute.State.REGISTERED, Dispute.State.MEDIATING)


def _labels() -> dict[str, dict[str, str]]:
    return {name: {k: str(v) for k, v in choices} for name, choices in (
        ("state", Dispute.State.choices), ("level", Level.choices), ("risk", Risk.choices),
        ("role", Party.Role.choices), ("honoured", FollowUp.Honoured.choices),
        ("source", Dispute.Source.choices))}


def _agreement(agreement: Agreement, parties: list[Party], signed: set[int], *,
               whole: bool, may_sign: bool) -> dict[str, Any]:
    return compact({
        "i": agreement.pk, "no": agreement.number, "t": agreement.terms,
        "by": agreement.perform_by.isoformat() if agreement.perform_by else None,
        "w": may_sign or None,
        "p": [[p.pk, p.role, p.name if whole else p.name_masked, int(p.pk in signed)]
              for p in parties],
    })


def _open(user: AbstractBaseUser, grid: Grid) -> list[dict[str, Any]]:
    rows = list(access.visible_disputes(user).filter(grid=grid, state__in=OPEN_STATES)
                .select_related("kind", "grid", "handling_grid", "mediator", "agreement")
                .prefetch_related("parties").order_by("-reported_at", "-pk"))
    agreed = [d.agreement.pk for d in rows
              if d.state == Dispute.State.AGREED and hasattr(d, "agreement")]
    signed: dict[int, set[int]] = {}
    for agreement_id, party_id in Signature.objects.filter(
            agreement_id__in=agreed).values_list("agreement_id", "party_id"):
        signed.setdefault(agreement_id, set()).add(party_id)
    out = []
    for d in rows:
        # one access decision per dispute and only where it matters (review (d)): whoever
        # may mediate may also follow up and sees the parties whole
        mediates = (d.state in SESSION_STATES or d.state == Dispute.State.AGREED) \
            and access.can_mediate(user, d)
        follows = d.state == Dispute.State.AGREED and (mediates
                                                      or access.can_follow_up(user, d))
        parties = list(d.parties.all())
        agreement = None
        if d.state == Dispute.State.AGREED and hasattr(d, "agreement"):
            whole = mediates or access.sees_parties(user, d)
            agreement = _agreement(d.agreement, parties, signed.get(d.agreement.pk, set()),
                                   whole=whole, may_sign=mediates)
        out.append(compact({
            "i": d.pk, "no": d.number, "k": d.kind.code, "t": d.subject, "s": d.state,
            "l": d.level, "r": d.risk, "p": [[p.role, p.name_masked] for p in parties],
            "m": (mediates and d.state in SESSION_STATES) or None, "f": follows or None,
            "a": agreement,
        }))
    return out


def _screening(user: AbstractBaseUser, grid: Grid) -> dict[str, Any]:
    period, start = period_of(grid, timezone.localdate())
    done = access.visible_screenings(user).filter(grid=grid, period_start=start).first()
    return compact({"period": period, "start": start.isoformat(), "done": done is not None,
                    "nil": done.nil if done else None,
                    "may": access.can_record(user, grid)})


def disputes_section(user: AbstractBaseUser, grid: Grid) -> dict[str, Any]:
    return {
        "kinds": [[k.code, k.name, k.sensitive, k.money]
                  for k in DisputeKind.objects.filter(active=True)],
        "open": _open(user, grid),
        "screening": _screening(user, grid),
        "labels": _labels(),
    }


def app_messages() -> dict[str, str]:
    """The words of the field app's dispute screens (static/disputes/app/disputes.js),
    keyed `disputes.*`; DisputesConfig.field_app_messages hands them to the shell."""
    words = {
        "tile": _("矛盾纠纷"), "title": _("矛盾纠纷"),
        "go.screening": _("排查"), "go.new": _("登记纠纷"), "go.session": _("调解记录"),
        "go.followup": _("回访"), "go.sign": _("签署协议"),
        "sign.title": _("签署调解协议书"), "agreement": _("调解协议书"),
        "agreement_no": _("协议编号"), "terms": _("协议内容"), "perform_by": _("履行期限"),
        "sign_party": _("当事人签名"), "sign_here": _("请当事人在框内签名"),
        "resign": _("重签"), "signed": _("已签名"), "pending_sign": _("签名待同步"),
        "submit_sign": _("保存签名"), "need_sign": _("请至少让一位当事人签名"),
        "no_sign": _("没有待签署的调解协议书"), "sign_due": _("待签署"),
        "screening.title": _("矛盾纠纷排查"), "new.title": _("登记矛盾纠纷"),
        "session.title": _("调解记录"), "followup.title": _("回访"),
        "open": _("本网格未结纠纷"), "none_open": _("本网格没有未结的矛盾纠纷"),
        "period.month": _("本月"), "period.week": _("本周"), "period.from": _("起"),
        "screened": _("本期已排查"), "screened_nil": _("本期已零报告"),
        "not_screened": _("本期尚未排查"), "screened_local": _("本期排查已保存，等待同步"),
        "may_not_screen": _("您不能为本网格报送排查"),
        "nil": _("本期无矛盾纠纷（零报告）"), "item": _("排查到的矛盾纠纷"),
        "add_item": _("＋ 添加一条"), "remove": _("删除"),
        "kind": _("类别"), "risk": _("风险等级"), "subject": _("争议事项"),
        "account": _("基本情况"), "amount": _("涉及金额（元）"),
        "applicant": _("申请人（姓名或名称）"), "respondent": _("被申请人（姓名或名称）"),
        "note": _("说明"), "submit_screening": _("报送排查"),
        "need_items": _("请填写排查到的矛盾纠纷，或勾选零报告"),
        "source": _("来源"), "parties": _("当事人"), "party": _("当事人"),
        "party_role": _("身份"), "party_resident": _("从本网格居民中选择（可不选）"),
        "party_name": _("姓名或名称（不在名单中时填写）"), "party_phone": _("联系电话"),
        "party_org": _("单位"), "add_party": _("＋ 添加当事人"),
        "need_party": _("请至少填写一位当事人（选择居民或填写姓名）"),
        "submit_new": _("登记纠纷"), "dispute": _("纠纷"),
        "held_at": _("调解时间"), "place": _("地点"), "attendees": _("参加人员"),
        "notes": _("调解情况（各方意见、调解经过）"), "submit_session": _("保存调解记录"),
        "no_session": _("没有可以记录调解的纠纷"),
        "honoured": _("协议履行情况"), "followup_note": _("回访情况"),
        "submit_followup": _("保存回访"), "no_followup": _("没有待回访的纠纷"),
        "pending_session": _("调解记录待同步"), "pending_followup": _("回访待同步"),
        "pending_new": _("待同步"), "sessions_may": _("可记录调解"),
        "followup_due": _("待回访"),
        "kind.screening.create": _("矛盾纠纷排查"), "kind.dispute.create": _("登记纠纷"),
        "kind.dispute.session": _("调解记录"), "kind.dispute.follow_up": _("纠纷回访"),
        "kind.agreement.sign": _("协议签名"),
    }
    return {f"disputes.{k}": str(v) for k, v in words.items()}
