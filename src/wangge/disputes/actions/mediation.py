"""Mediation level by level: grid mediator → workstation 调委会 → town 司法所/调委会 → city.

- do_accept(user, dispute_id, *, mediator_id=None): registered → mediating; the mediator
  (default: the user if they are a mediator of the handling grid, else the first of
  access.mediators_for(handling_grid)) is assigned; clock accept stops, mediate starts.
- do_assign(user, dispute_id, *, mediator_id): another mediator of the handling body.
- do_escalate(user, dispute_id, *, reason): one level up (Level order), handling_grid the
  ancestor at that level, the current assignment ends, state back to registered for the
  new body (clock accept restarts); at city level → DisputeError("level", ...).
- do_record_session(user, p): p = dispute_id, held_at, place, attendees, notes,
  photo_hashes; only while mediating (registered: accepted implicitly by its mediator).
- do_withdraw(user, dispute_id, *, reason): registered/mediating → withdrawn, clocks stop.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes.models import Dispute, Session


def do_accept(user: AbstractBaseUser, dispute_id: int, *, mediator_id: int | None = None
              ) -> Dispute:
    raise NotImplementedError


def do_assign(user: AbstractBaseUser, dispute_id: int, *, mediator_id: int) -> Dispute:
    raise NotImplementedError


def do_escalate(user: AbstractBaseUser, dispute_id: int, *, reason: str) -> Dispute:
    raise NotImplementedError


def do_record_session(user: AbstractBaseUser, p: dict[str, Any]) -> Session:
    raise NotImplementedError


def do_withdraw(user: AbstractBaseUser, dispute_id: int, *, reason: str) -> Dispute:
    raise NotImplementedError
