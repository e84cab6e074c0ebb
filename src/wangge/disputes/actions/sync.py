"""The field app's envelope kinds (fieldwork.envelopes): screening.create,
dispute.create, dispute.session, dispute.follow_up, agreement.sign — each applies the
matching do_* with the envelope's payload and answers the record as the phone holds it.

The sync engine owns the client key (a replay answers the first record, nothing written).
A step the dispute's state no longer allows (IllegalMove: e.g. a session recorded offline
for a dispute withdrawn meanwhile) is answered `conflict` with the dispute as the server
holds it, so the phone shows what happened instead of retrying."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes import access, queries
from wangge.disputes.actions.mediation import do_record_session
from wangge.disputes.actions.outcome import do_record_follow_up, do_sign
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.actions.screening import do_record_screening
from wangge.disputes.errors import IllegalMove
from wangge.disputes.models import Dispute, FollowUp, Screening, Session, Signature
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import Conflict


def _current(user: AbstractBaseUser, dispute_id: Any) -> dict[str, Any]:
    d = queries.rows_of(access.visible_disputes(user)).filter(
        pk=dispute_id if isinstance(dispute_id, int) else -1).first()
    return queries.dispute_row(d, whole=access.sees_parties(user, d)) if d else {}


def _get(p: Any, key: str) -> Any:
    return p.get(key) if isinstance(p, dict) else None


def _moves(user: AbstractBaseUser, dispute_id: Any, apply: Callable[[], int]) -> int:
    try:
        return apply()
    except IllegalMove as e:
        raise Conflict(str(e), _current(user, dispute_id)) from None


# -- answers: the record as the phone holds it (the same on a replay) -----------------------

def screening_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return queries.screening_row(Screening.objects.select_related("grid").get(pk=pk))


def dispute_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    d = queries.rows_of(Dispute.objects.filter(pk=pk)).get()
    return queries.dispute_row(d, whole=access.sees_parties(user, d))


def session_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return queries.session_row(Session.objects.get(pk=pk))


def follow_up_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return queries.follow_up_row(FollowUp.objects.select_related("dispute").get(pk=pk))


def signature_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return queries.signature_row(Signature.objects.select_related("agreement").get(pk=pk))


# -- the kinds -------------------------------------------------------------------------------

@register("screening.create", "disputes.screening", answer=screening_answer)
def apply_screening(user: AbstractBaseUser, env: Envelope) -> int:
    return do_record_screening(user, env.payload).pk


@register("dispute.create", "disputes.dispute", answer=dispute_answer)
def apply_dispute(user: AbstractBaseUser, env: Envelope) -> int:
    return do_record_dispute(user, env.payload).pk


@register("dispute.session", "disputes.session", answer=session_answer)
def apply_session(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return _moves(user, _get(p, "dispute_id"), lambda: do_record_session(user, p).pk)


@register("dispute.follow_up", "disputes.follow_up", answer=follow_up_answer)
def apply_follow_up(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    return _moves(user, _get(p, "dispute_id"), lambda: do_record_follow_up(user, p).pk)


@register("agreement.sign", "disputes.signature", answer=signature_answer)
def apply_sign(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    agreement_id = _get(p, "agreement_id")
    dispute_id = (Dispute.objects.filter(agreement__pk=agreement_id).values_list(
        "pk", flat=True).first() if isinstance(agreement_id, int) else None)
    return _moves(user, dispute_id, lambda: do_sign(user, p).pk)
