"""The dispute record: kind, parties, grid, subject, amount, risk, source, links.

`do_record_dispute(user, p, screening=None)` with payload p:
  grid_id, kind (DisputeKind code), risk (low/medium/high), source (Dispute.Source),
  subject, account, amount (decimal string, optional; ≥ 0), reported_at (ISO, default now),
  sensitive (optional: defaults to the kind's), case_id / visit_id / opinion_id (optional,
  each one the user may see), parties: [{role, kind (person/organisation),
  resident_id (one the user may see in the register) | name, phone, id_number}], at least
  one party. Numbers TJ<year><6 digits> (core.numbers). The stage clock "accept" starts.
`do_set_sensitive(user, dispute_id, *, sensitive, reason)`.
`do_reveal_party(user, party_id, *, purpose) -> dict` the party's whole data, logged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes.models import Dispute, Party, Screening


def do_record_dispute(user: AbstractBaseUser, p: dict[str, Any], *,
                      screening: Screening | None = None) -> Dispute:
    raise NotImplementedError


def do_set_sensitive(user: AbstractBaseUser, dispute_id: int, *, sensitive: bool,
                     reason: str) -> Dispute:
    raise NotImplementedError


def party_row(party: Party, *, whole: bool) -> dict[str, Any]:
    """A party as pages and the API show it: masked unless `whole` (names only; contact
    data opens through do_reveal_party)."""
    raise NotImplementedError


def do_reveal_party(user: AbstractBaseUser, party_id: int, *, purpose: str) -> dict[str, Any]:
    raise NotImplementedError
