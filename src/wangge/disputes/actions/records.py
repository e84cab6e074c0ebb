"""The dispute record: kind, parties, grid, subject, amount, risk, source, links.

`do_record_dispute(user, p, screening=None)` with payload p:
  grid_id, kind (DisputeKind code), risk (low/medium/high), source (Dispute.Source),
  subject, account, amount (decimal string, optional; ≥ 0), reported_at (ISO, default now),
  sensitive (optional: defaults to the kind's; never below it — a sensitive kind is lowered
  afterwards with do_set_sensitive and a reason), case_id / visit_id / opinion_id (optional,
  each one the user may see), parties: [{role, kind (person/organisation),
  resident_id (one the user may see in the register) | name, phone, id_number}], at least
  one party. Numbers TJ<year><6 digits> (core.numbers). The stage clock "accept" starts.
  A high-risk dispute raises its alerts in the same transaction (`raise_alerts`).
`do_set_sensitive(user, dispute_id, *, sensitive, reason)`.
`do_reveal_party(user, party_id, *, purpose) -> dict` the party's whole data, logged.

Parties follow the register's rule: a resident party points at the register (their ID
number and phone stay there, masked copies are shown; a reveal goes through the register's
own unmask, logged there); an outsider's phone and ID number are sealed, hashed and masked
with the same helpers as the register's (core.crypto, registry.identity). Names are stored
whole and shown masked (`张**`) except to those who may mediate or recorded the dispute.
An organisation's name (an employer, a developer) is not personal data: shown whole.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wangge.cases.access import visible_cases
from wangge.core import audit, crypto, outbox
from wangge.core.numbers import next_no
from wangge.disputes import access
from wangge.disputes.actions import clocks
from wangge.disputes.actions.common import (
    add_event,
    announce,
    basic_grid,
    facts,
    for_change,
)
from wangge.disputes.actions.common import reason as clean_reason
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import (
    Alert,
    Dispute,
    DisputeKind,
    Party,
    Risk,
    Screening,
    StageClock,
)
from wangge.disputes.queries import party_row as party_row  # the contract's name here
from wangge.fieldwork import access as field_access
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.errors import FieldworkError
from wangge.registry import access as registry_access
from wangge.registry.actions import do_unmask
from wangge.registry.identity import (
    IdentityError,
    mask_id_number,
    mask_name,
    mask_phone,
    normalise_phone,
    parse_id_number,
)
from wangge.registry.models import Resident
from wangge.territory.models import Grid, Level

#: parties one dispute may list
MAX_PARTIES = 20
#: the largest amount the record holds (max_digits 14, 2 decimals)
MAX_AMOUNT = Decimal("999999999999.99")


def _wrap(prefix: str, e: FieldworkError) -> DisputeError:
    return DisputeError(f"{prefix}{e.field}", e.msg, e.code)


def _amount(p: dict[str, Any]) -> Decimal | None:
    value = p.get("amount")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DisputeError("amount", "must be a decimal number of yuan", "type")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DisputeError("amount", "must be a decimal number of yuan", "invalid") from None
    if not amount.is_finite() or amount < 0:
        raise DisputeError("amount", "must be zero or more", "range")
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise DisputeError("amount", "at most 999999999999.99, two decimals", "range")
    return amount.quantize(Decimal("0.01"))


def _flag(p: dict[str, Any], field: str, default: bool) -> bool:
    value = p.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise DisputeError(field, "must be true or false", "type")
    return value


def _link(user: AbstractBaseUser, p: dict[str, Any], field: str, visible: Any) -> Any:
    pk = read.optional_id(p, field)
    if pk is None:
        return None
    found = visible.filter(pk=pk).first()
    if found is None:
        raise DisputeError(field, "no such record in your scope", "not_found")
    return found


def seal_party(user: AbstractBaseUser, raw: Any, i: int, ring: crypto.Keyring) -> Party:
    """One party from its payload (unsaved): validated naming `parties.<i>.<field>`, an
    outsider's phone and ID number sealed, hashed and masked. The demo seals its parties
    with it too, so the rule has one copy."""
    prefix = f"parties.{i}."
    if not isinstance(raw, dict):
        raise DisputeError(f"parties.{i}", "must be an object", "type")
    role = read.choice(raw, "role", list(Party.Role.values))
    kind = read.choice(raw, "kind", list(Party.Kind.values), default=Party.Kind.PERSON)
    resident_id = read.optional_id(raw, "resident_id")
    party = Party(role=role, kind=kind, order=i)
    if resident_id is not None:
        if kind != Party.Kind.PERSON:
            raise DisputeError(prefix + "resident_id", "an organisation is not a resident",
                               "mismatch")
        try:
            resident = registry_access.access_record(user, Resident, resident_id)
        except Http404:
            raise DisputeError(prefix + "resident_id", "no such resident in your scope",
                               "not_found") from None
        party.resident = resident
        party.name = resident.name
        party.name_masked = mask_name(resident.name)
        party.phone_masked = resident.phone_masked
        party.id_number_masked = resident.id_number_masked
        return party
    party.name = read.text(raw, "name", required=True, max_length=100)
    party.name_masked = (party.name if kind == Party.Kind.ORGANISATION
                         else mask_name(party.name))
    phone = read.text(raw, "phone", max_length=32)
    if phone:
        try:
            phone = normalise_phone(phone)
        except IdentityError as e:
            raise DisputeError(prefix + "phone", str(e), "invalid") from None
        party.phone_enc = crypto.seal(phone, ring)
        party.phone_hash = crypto.blind_index(phone, ring)
        party.phone_masked = mask_phone(phone)
    number = read.text(raw, "id_number", max_length=32)
    if number:
        if kind != Party.Kind.PERSON:
            raise DisputeError(prefix + "id_number", "only a person has an ID number",
                               "mismatch")
        try:
            number = parse_id_number(number).number
        except IdentityError as e:
            raise DisputeError(prefix + "id_number", str(e), "invalid") from None
        party.id_number_enc = crypto.seal(number, ring)
        party.id_number_hash = crypto.blind_index(number, ring)
        party.id_number_masked = mask_id_number(number)
    return party


def _parties(user: AbstractBaseUser, p: dict[str, Any]) -> list[Party]:
    raw = read.items(p, "parties", most=MAX_PARTIES)
    if not raw:
        raise DisputeError("parties", "at least one party is required", "required")
    ring = crypto.keyring()
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(seal_party(user, item, i, ring))
        except FieldworkError as e:
            if isinstance(e, DisputeError) and e.field.startswith("parties."):
                raise
            raise _wrap(f"parties.{i}.", e) from None
    return out


def raise_alerts(d: Dispute, at: Any = None) -> list[Alert]:
    """A high-risk dispute: an Alert for the workstation (village / community above the
    grid) and the sub-center (the town above it), and the outbox message
    "disputes.high_risk" with the facts. Inside the dispute's transaction."""
    at = at or timezone.now()
    bodies = list(Grid.objects.filter(path__in=d.grid.ancestor_paths(),
                                      level__in=[Level.VILLAGE, Level.TOWN]).order_by("-level"))
    alerts = [Alert(dispute=d, grid=g, raised_at=at) for g in bodies]
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    outbox.enqueue("disputes.high_risk", {
        **facts(d), "alert_grids": [g.code for g in bodies],
        "workstation": next((g.code for g in bodies if g.level == Level.VILLAGE), None),
        "subcenter": next((g.code for g in bodies if g.level == Level.TOWN), None),
        "screening_id": d.screening_id, "raised_at": at.isoformat()})
    return alerts


def do_record_dispute(user: AbstractBaseUser, p: dict[str, Any], *,
                      screening: Screening | None = None) -> Dispute:
    if not isinstance(p, dict):
        raise DisputeError("payload", "must be an object", "type")
    try:
        if screening is not None:
            grid, source = screening.grid, Dispute.Source.SCREENING
        else:
            grid = basic_grid(user, p)
            source = read.choice(p, "source", list(Dispute.Source.values))
        kind = DisputeKind.objects.filter(code=read.code(p, "kind"), active=True).first()
        if kind is None:
            raise DisputeError("kind", "must be the code of one of the dispute kinds", "choice")
        risk = read.choice(p, "risk", list(Risk.values))
        subject = read.text(p, "subject", required=True, max_length=200)
        account = read.text(p, "account")
        amount = _amount(p)
        reported_at = (read.moment(p, "reported_at") if p.get("reported_at") is not None
                       else (screening.screened_at if screening else timezone.now()))
        sensitive = _flag(p, "sensitive", kind.sensitive)
        if kind.sensitive and not sensitive:
            raise DisputeError("sensitive", "this kind is always recorded as sensitive (lower "
                               "it afterwards with a reason)", "below_kind")
        case = _link(user, p, "case_id", visible_cases(user))
        visit = _link(user, p, "visit_id", field_access.visible_visits(user))
        opinion = _link(user, p, "opinion_id", field_access.visible_opinions(user))
        parties = _parties(user, p)
    except DisputeError:
        raise
    except FieldworkError as e:
        raise _wrap("", e) from None
    now = timezone.now()
    with transaction.atomic():
        d = Dispute(kind=kind, grid=grid, subject=subject, account=account, amount=amount,
                    risk=risk, source=source, sensitive=sensitive,
                    state=Dispute.State.REGISTERED, screening=screening, case=case,
                    visit=visit, opinion=opinion, handling_grid=grid,
                    reported_at=reported_at, recorded_by=user)
        clocks.start_stage(d, StageClock.Stage.ACCEPT, now)
        d.number = next_no("TJ", now)
        d.save()
        for party in parties:
            party.dispute = d
        Party.objects.bulk_create(parties)
        add_event(d, "recorded", user, at=now, source=source, risk=risk, kind_code=kind.code,
                  parties=len(parties))
        announce("disputes.recorded", d, user, source=source, parties=len(parties),
                 screening_id=screening.pk if screening else None)
        if risk == Risk.HIGH:
            raise_alerts(d, now)
    return d


def do_set_sensitive(user: AbstractBaseUser, dispute_id: int, *, sensitive: bool,
                     reason: str) -> Dispute:
    if not isinstance(sensitive, bool):
        raise DisputeError("sensitive", "must be true or false", "type")
    why = clean_reason(reason)
    with transaction.atomic():
        d = for_change(user, dispute_id)
        if d.sensitive == sensitive:
            return d
        d.sensitive = sensitive
        d.save(update_fields=["sensitive", "updated_at"])
        add_event(d, "sensitive", user, note=why, sensitive=sensitive)
        announce("disputes.sensitivity_set", d, user, reason_given=True)
    return d


def do_reveal_party(user: AbstractBaseUser, party_id: int, *, purpose: str) -> dict[str, Any]:
    """The party's whole name, phone and ID number, logged with the stated purpose: a
    resident's through the register's own unmask (its UnmaskLog and permission), an
    outsider's from the sealed columns (an audit entry naming the purpose)."""
    why = (purpose or "").strip() if isinstance(purpose, str) else ""
    if len(why) < 2:
        raise DisputeError("purpose", "state why you need the whole data", "required")
    party = Party.objects.select_related("dispute", "resident").filter(pk=party_id).first()
    if party is None:
        raise Http404("no such party")
    d = access.access_dispute(user, party.dispute_id)
    if not access.sees_parties(user, d):
        raise PermissionDenied("you may not see this dispute's parties")
    with transaction.atomic():
        if party.resident is not None:
            opened = do_unmask(party.resident, user, purpose=why)
            out = {"name": party.name, "phone": opened.get("phone", ""),
                   "id_number": opened.get("id_number", "")}
        else:
            ring = crypto.keyring()
            out = {"name": party.name,
                   "phone": crypto.open_sealed(party.phone_enc, ring) if party.phone_enc else "",
                   "id_number": (crypto.open_sealed(party.id_number_enc, ring)
                                 if party.id_number_enc else "")}
        audit.record("disputes.party_revealed", actor=user, object_type="disputes.party",
                     object_id=party.pk, dispute=d.number, purpose=why[:200],
                     fields=sorted(k for k, v in out.items() if v))
    return {"party_id": party.pk, **out}
