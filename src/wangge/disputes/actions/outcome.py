"""The outcome of mediation and what follows it.

- do_make_agreement(user, dispute_id, *, terms, perform_by=None): mediating → agreed;
  Agreement numbered XY<year><6 digits>; clock mediate stops, follow_up starts.
- do_sign(user, p): p = agreement_id, party_id, image_hash (an Upload this user sent),
  method (phone/scan), signed_at; once per party; when every party signed, signed_at set.
- do_refer(user, dispute_id, *, body, department_id=None, reason): mediating → referred;
  body department → department_id required, a case is opened for it through
  cases.actions (category from the duty list / the dispute's kind) and linked.
- do_record_follow_up(user, p): p = dispute_id, at, honoured (yes/partly/no), note; only
  for agreed; yes → closed (closed_at); partly → stays agreed, follow_up clock restarts;
  no → reopened: back to mediating (mediate clock restarts).

A department referral opens a case with cases' own intake (`cases.actions.do_report`):
its category is the kind's `case_category` (data, seeded from seed_data/kinds.json onto
the cases' 矛盾纠纷 small classes, e.g. labour → 1301 劳资纠纷), else the cases' 1313
其他纠纷; its place is the dispute's grid (the grid's label point); its text names the
dispute's number, the department and the reason, never the parties. The dispatcher routes
it by the duty list like any case.

An agreement that is not honoured (follow-up "no") sends the dispute back to mediation;
the agreement (one per dispute) is then made anew in place: the earlier terms, number and
signatures stay in the timeline (the REOPENED event's data), the signatures are cleared
and the agreement is no longer signed (`signed_at` None) until it is made anew.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wangge.cases.access import actor_kinds
from wangge.cases.actions import do_report, do_transition
from wangge.cases.actions.intake import allowed_channels
from wangge.cases.errors import CaseError
from wangge.cases.models import Case, CaseCategory
from wangge.cases.workflow import Actor
from wangge.core.numbers import next_no
from wangge.disputes.actions import clocks
from wangge.disputes.actions.common import (
    add_event,
    announce,
    end_assignment,
    for_change,
    named,
    person_of,
    require_state,
)
from wangge.disputes.actions.common import dispute_id as read_dispute_id
from wangge.disputes.actions.common import reason as clean_reason
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import (
    Agreement,
    Dispute,
    FollowUp,
    Party,
    Referral,
    Signature,
    StageClock,
)
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.models import Upload
from wangge.org.models import Department

#: the cases' small class for a kind without a mapping (其他纠纷)
FALLBACK_CASE_CATEGORY = "1313"


def do_make_agreement(user: AbstractBaseUser, dispute_id: int, *, terms: str,
                      perform_by: dt.date | None = None) -> Agreement:
    text = clean_reason(terms, "terms", max_length=5000)
    if isinstance(perform_by, str):
        with named():
            perform_by = read.day({"perform_by": perform_by}, "perform_by", required=False)
    if perform_by is not None and (not isinstance(perform_by, dt.date)
                                   or isinstance(perform_by, dt.datetime)):
        raise DisputeError("perform_by", "must be a date", "type")
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, (Dispute.State.MEDIATING,), "agreed")
        now = timezone.now()
        if perform_by is not None and perform_by < timezone.localdate(d.reported_at):
            raise DisputeError("perform_by", "lies before the dispute was reported",
                               "before_report")
        mediator = d.mediator or person_of(user)
        agreement = Agreement.objects.filter(dispute=d).first()
        if agreement is None:
            agreement = Agreement(dispute=d)
        agreement.terms, agreement.perform_by = text, perform_by
        agreement.made_at, agreement.mediator, agreement.signed_at = now, mediator, None
        agreement.number = next_no("XY", now)
        agreement.save()
        d.state = Dispute.State.AGREED
        d.settled_at = now
        clocks.start_stage(d, StageClock.Stage.FOLLOW_UP, now)
        d.save()
        add_event(d, "agreed", user, at=now, agreement=agreement.number,
                  perform_by=perform_by.isoformat() if perform_by else None)
        announce("disputes.agreed", d, user, agreement=agreement.number,
                 perform_by=perform_by.isoformat() if perform_by else None,
                 parties=d.parties.count())
    return agreement


def do_sign(user: AbstractBaseUser, p: dict[str, Any]) -> Signature:
    if not isinstance(p, dict):
        raise DisputeError("payload", "must be an object", "type")
    with named():
        agreement_id = read.integer(p, "agreement_id", low=1, high=2**63 - 1)
        party_id = read.integer(p, "party_id", low=1, high=2**63 - 1)
        image_hash = read.hashes({"image_hash": [p.get("image_hash")]}, "image_hash", most=1)
        method = read.choice(p, "method", list(Signature.Method.values))
        signed_at = (read.moment(p, "signed_at") if p.get("signed_at") is not None
                     else timezone.now())
    agreement = Agreement.objects.filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404("no such agreement")
    with transaction.atomic():
        d = for_change(user, agreement.dispute_id)
        require_state(d, (Dispute.State.AGREED,), "signed")
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        party = Party.objects.filter(pk=party_id, dispute=d).first()
        if party is None:
            raise DisputeError("party_id", "not a party of this dispute", "not_party")
        if signed_at < agreement.made_at - read.CLOCK_SKEW:
            raise DisputeError("signed_at", "lies before the agreement was made",
                               "before_agreement")
        image = Upload.objects.filter(uploaded_by=user, sha256=image_hash[0]).first()
        if image is None:
            raise DisputeError("image_hash", "no image uploaded with this hash (upload it "
                               "first)", "unknown_upload")
        if Signature.objects.filter(agreement=agreement, party=party).exists():
            raise DisputeError("party_id", "this party has already signed", "already_signed")
        sig = Signature.objects.create(agreement=agreement, party=party, image=image,
                                       method=method, signed_at=signed_at)
        signed = set(Signature.objects.filter(agreement=agreement)
                     .values_list("party_id", flat=True))
        complete = signed >= set(d.parties.values_list("pk", flat=True))
        if complete:
            agreement.signed_at = max(Signature.objects.filter(agreement=agreement)
                                      .values_list("signed_at", flat=True))
            agreement.save(update_fields=["signed_at"])
        add_event(d, "signed", user, party_id=party.pk, method=method,
                  agreement=agreement.number, complete=complete)
        announce("disputes.signed", d, user, agreement=agreement.number, party_id=party.pk,
                 method=method, complete=complete,
                 signed_at=agreement.signed_at.isoformat() if complete else None)
    return sig


def _case_category(d: Dispute) -> str:
    codes = [c for c in (d.kind.case_category, FALLBACK_CASE_CATEGORY) if c]
    found = dict(CaseCategory.objects.filter(code__in=codes, parent__isnull=False)
                 .values_list("code", "code"))
    for c in codes:
        if c in found:
            return c
    child = CaseCategory.objects.filter(parent__code="13").order_by("code").first()
    if child is None:
        raise DisputeError("department_id", "the case classification has no dispute class "
                           "to file the referral under", "no_category")
    return child.code


def _open_case(user: AbstractBaseUser, d: Dispute, department: Department, why: str) -> Case:
    channels = allowed_channels(user)
    channel = next((c for c in (Case.Channel.STATION, Case.Channel.GRID_WORKER)
                    if c in channels), None)
    if channel is None:
        raise PermissionDenied("you may not open a case")
    # a sensitive dispute's kind (家庭暴力) is not told to everyone who reads the case
    what = d.number if d.sensitive else f"{d.kind.name} {d.number}"
    try:
        case = do_report({
            "category": _case_category(d),
            "title": f"矛盾纠纷移交：{what}"[:100],
            "description": (f"矛盾纠纷 {what} 调解不成，移交{department.name}。"
                            f"移交原因：{why}"),
            "lng": d.grid.label_lng, "lat": d.grid.label_lat}, user, channel=channel)
        if Actor.DISPATCH in actor_kinds(user, case):
            # staff who may route cases (workstation, sub-center, center) send it to the
            # department they chose at once; a mediator's referral waits in the
            # dispatchers' queue like any report, the department named in its text (the
            # case loop's rule: routing is the dispatcher's)
            case = do_transition(case, "register", user)
            case = do_transition(case, "dispatch", user, department=department.code)
        return case
    except CaseError as e:
        raise DisputeError(f"case.{e.field}", str(e), e.code) from None


def do_refer(user: AbstractBaseUser, dispute_id: int, *, body: str,
             department_id: int | None = None, reason: str) -> Referral:
    with named():
        chosen = read.choice({"body": body}, "body", list(Referral.Body.values))
    why = clean_reason(reason)
    department = None
    if chosen == Referral.Body.DEPARTMENT:
        if department_id is None:
            raise DisputeError("department_id", "required for a referral to a department",
                               "required")
        with named():
            read.integer({"department_id": department_id}, "department_id", low=1,
                         high=2**63 - 1)
        department = Department.objects.filter(pk=department_id, kind__in=[
            Department.Kind.DEPARTMENT, Department.Kind.EXTERNAL]).first()
        if department is None:
            raise DisputeError("department_id", "no such department", "not_found")
    with transaction.atomic():
        d = for_change(user, dispute_id)
        require_state(d, (Dispute.State.MEDIATING,), "referred")
        now = timezone.now()
        case = _open_case(user, d, department, why) if department is not None else None
        referral = Referral.objects.create(dispute=d, body=chosen, department=department,
                                           reason=why, case=case, referred_at=now,
                                           referred_by=user)
        if case is not None and d.case_id is None:
            d.case = case
        d.state = Dispute.State.REFERRED
        d.settled_at = now
        clocks.stop_stage(d)
        end_assignment(d, now)
        d.save()
        add_event(d, "referred", user, at=now, note=why, body=chosen,
                  department=department.code if department else None,
                  case=case.register_no if case else None)
        announce("disputes.referred", d, user, body=chosen,
                 department=department.code if department else None,
                 department_name=department.name if department else None,
                 case=case.register_no if case else None)
    return referral


def do_record_follow_up(user: AbstractBaseUser, p: dict[str, Any]) -> FollowUp:
    if not isinstance(p, dict):
        raise DisputeError("payload", "must be an object", "type")
    pk = read_dispute_id(p)
    with named():
        at = read.moment(p, "at") if p.get("at") is not None else timezone.now()
        honoured = read.choice(p, "honoured", list(FollowUp.Honoured.values))
        note = read.text(p, "note")
    with transaction.atomic():
        d = for_change(user, pk, may="follow_up")
        require_state(d, (Dispute.State.AGREED,), "followed up")
        by = person_of(user)
        agreement = Agreement.objects.filter(dispute=d).first()
        if agreement is not None and at < agreement.made_at - read.CLOCK_SKEW:
            raise DisputeError("at", "lies before the agreement was made", "before_agreement")
        f = FollowUp.objects.create(dispute=d, at=at, by=by, honoured=honoured, note=note,
                                    recorded_by=user)
        now = timezone.now()
        add_event(d, "followed_up", user, at=now, note=note, honoured=honoured,
                  follow_up_id=f.pk)
        if honoured == FollowUp.Honoured.YES:
            d.state = Dispute.State.CLOSED
            d.closed_at = at
            clocks.stop_stage(d)
            end_assignment(d, now)
        elif honoured == FollowUp.Honoured.PARTLY:
            clocks.start_stage(d, StageClock.Stage.FOLLOW_UP, now)
        else:
            d.state = Dispute.State.MEDIATING
            d.settled_at = None
            clocks.start_stage(d, StageClock.Stage.MEDIATE, now)
            earlier = None
            if agreement is not None:
                earlier = {"agreement": agreement.number, "terms": agreement.terms,
                           "made_at": agreement.made_at.isoformat(),
                           "signed_at": (agreement.signed_at.isoformat()
                                         if agreement.signed_at else None),
                           "signatures": list(Signature.objects.filter(
                               agreement=agreement).values_list("party_id", flat=True))}
                Signature.objects.filter(agreement=agreement).delete()
                # no longer in force: unsigned until it is made anew (its made_at stays the
                # first agreement's until then)
                agreement.signed_at = None
                agreement.save(update_fields=["signed_at"])
            add_event(d, "reopened", user, at=now, note=note, earlier=earlier)
        d.save()
        announce("disputes.followed_up", d, user, honoured=honoured, follow_up_id=f.pk,
                 at=at.isoformat(), by=by.pk)
    return f


__all__ = ["do_make_agreement", "do_record_follow_up", "do_refer", "do_sign"]
