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
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes.models import Agreement, FollowUp, Referral, Signature


def do_make_agreement(user: AbstractBaseUser, dispute_id: int, *, terms: str,
                      perform_by: dt.date | None = None) -> Agreement:
    raise NotImplementedError


def do_sign(user: AbstractBaseUser, p: dict[str, Any]) -> Signature:
    raise NotImplementedError


def do_refer(user: AbstractBaseUser, dispute_id: int, *, body: str,
             department_id: int | None = None, reason: str) -> Referral:
    raise NotImplementedError


def do_record_follow_up(user: AbstractBaseUser, p: dict[str, Any]) -> FollowUp:
    raise NotImplementedError
