"""民情日记: the worker's own dated log (`diary.create`), with tags and links to households,
cases and opinions the author may see. Read by access.visible_diary only (the author and
their chain).

An entry is the author's to correct for EDIT_DAYS days after its day (a diary is written in
the evening and tidied the next morning or two); after that it stands as written, like a
paper diary. Nobody else edits it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from wangge.cases.access import visible_cases
from wangge.core import audit, outbox
from wangge.core.schema import text_problem
from wangge.fieldwork import access
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.actions.sync import resolve_key
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.fieldwork.models import DiaryEntry
from wangge.registry import access as registry_access
from wangge.registry.models import Household

#: the author may correct an entry until this many days after its day
EDIT_DAYS = 3
MAX_TAGS, TAG_LENGTH, MAX_LINKS = 10, 20, 50


def diary_row(e: DiaryEntry) -> dict[str, Any]:
    return {
        "id": e.pk, "author_id": e.author_id, "author": e.author.name, "grid": e.grid.code,
        "grid_name": e.grid.name, "day": e.day.isoformat(), "text": e.text,
        "tags": list(e.tags), "written_at": e.written_at.isoformat(),
        "household_ids": sorted(e.households.values_list("pk", flat=True)),
        "cases": sorted(e.cases.values_list("register_no", flat=True)),
        "opinion_ids": sorted(e.opinions.values_list("pk", flat=True)),
        "editable_until": (e.day + dt.timedelta(days=EDIT_DAYS)).isoformat(),
    }


def diary_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return diary_row(DiaryEntry.objects.select_related("author", "grid").get(pk=pk))


def _tags(p: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for i, tag in enumerate(read.items(p, "tags", most=MAX_TAGS)):
        value = read.text({"t": tag}, "t", max_length=TAG_LENGTH) if isinstance(tag, str) \
            else None
        if not value:
            raise FieldworkError(f"tags.{i}", f"a tag is text of 1 to {TAG_LENGTH} characters")
        if value not in out:
            out.append(value)
    return out


def _links(user: AbstractBaseUser, p: dict[str, Any]) -> dict[str, list[int]]:
    """The ids of the linked records, each one the user may see (else 422 naming it)."""
    households = read.ids(p, "household_ids", most=MAX_LINKS)
    seen = set(registry_access.visible(user, Household).filter(pk__in=households)
               .values_list("pk", flat=True))
    for i, pk in enumerate(households):
        if pk not in seen:
            raise FieldworkError(f"household_ids.{i}", "no such household in your grid",
                                 "not_found")
    cases: list[int] = []
    for i, ref in enumerate(read.items(p, "case_ids", most=MAX_LINKS)):
        # a case's id, or its register number (what the worker sees)
        q = visible_cases(user)
        if isinstance(ref, str):
            storable = 0 < len(ref) <= 100 and text_problem(ref) is None
            q = q.filter(register_no=ref) if storable else q.none()
        elif isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref < 2**63:
            q = q.filter(pk=ref)
        else:
            raise FieldworkError(f"case_ids.{i}", "a case's id or register number", "type")
        pk = q.values_list("pk", flat=True).first()
        if pk is None:
            raise FieldworkError(f"case_ids.{i}", "no such case", "not_found")
        cases.append(pk)
    opinions = read.ids(p, "opinion_ids", most=MAX_LINKS)
    for i, key in enumerate(read.items(p, "opinion_keys", most=MAX_LINKS)):
        if not isinstance(key, str) or not key or text_problem(key) is not None:
            raise FieldworkError(f"opinion_keys.{i}", "must be a client key", "type")
        opinions.append(resolve_key(user, key, "fieldwork.opinion", f"opinion_keys.{i}"))
    seen = set(access.visible_opinions(user).filter(pk__in=opinions)
               .values_list("pk", flat=True))
    for i, pk in enumerate(opinions):
        if pk not in seen:
            raise FieldworkError(f"opinion_ids.{i}", "no such opinion", "not_found")
    return {"households": households, "cases": sorted(set(cases)),
            "opinions": sorted(set(opinions))}


def _day(p: dict[str, Any]) -> dt.date:
    day = read.day(p, "day")
    assert day is not None
    if day > timezone.localdate() + dt.timedelta(days=1):  # a phone past midnight
        raise FieldworkError("day", "lies in the future", "future")
    return day


@register("diary.create", "fieldwork.diary", answer=diary_answer)
def apply_diary(user: AbstractBaseUser, env: Envelope) -> int:
    return do_write_diary(user, env.payload).pk


def do_write_diary(user: AbstractBaseUser, p: dict[str, Any]) -> DiaryEntry:
    author, grid = access.person_of(user), access.home_grid(user)
    if author is None or grid is None:
        raise PermissionDenied("only field staff keep a diary")
    day = _day(p)
    text = read.text(p, "text", required=True)
    tags = _tags(p)
    links = _links(user, p)
    entry = DiaryEntry.objects.create(author=author, grid=grid, day=day, text=text, tags=tags,
                                      written_at=timezone.now())
    entry.households.set(links["households"])
    entry.cases.set(links["cases"])
    entry.opinions.set(links["opinions"])
    audit.record("fieldwork.diary_written", actor=user, object_type="fieldwork.diary",
                 object_id=entry.pk, day=day.isoformat())
    # the text stays out of the outbox: the diary is the chain's only
    outbox.enqueue("fieldwork.diary", {"entry_id": entry.pk, "author_id": author.pk,
                                       "grid": grid.code, "day": day.isoformat(),
                                       "event": "written"})
    return entry


def do_edit_diary(user: AbstractBaseUser, pk: int, p: dict[str, Any]) -> DiaryEntry:
    """The author's correction: the fields given replace the entry's (day stays)."""
    with transaction.atomic():
        access.access_one(access.visible_diary(user), pk)
        entry = (DiaryEntry.objects.select_for_update(of=("self",))
                 .select_related("author", "grid").get(pk=pk))
        if entry.author.user_id != user.pk:
            raise PermissionDenied("only the author edits a diary entry")
        if timezone.localdate() > entry.day + dt.timedelta(days=EDIT_DAYS):
            raise Conflict(f"an entry may be edited for {EDIT_DAYS} days after its day",
                           diary_row(entry))
        changed = []
        if "text" in p:
            entry.text = read.text(p, "text", required=True)
            changed.append("text")
        if "tags" in p:
            entry.tags = _tags(p)
            changed.append("tags")
        links = _links(user, p)
        if changed:
            entry.save(update_fields=changed)
        for name, field in (("households", "household_ids"), ("cases", "case_ids")):
            if field in p:
                getattr(entry, name).set(links[name])
        if "opinion_ids" in p or "opinion_keys" in p:
            entry.opinions.set(links["opinions"])
        audit.record("fieldwork.diary_edited", actor=user, object_type="fieldwork.diary",
                     object_id=entry.pk, fields=sorted(k for k in p if k != "day"))
        outbox.enqueue("fieldwork.diary", {"entry_id": entry.pk, "author_id": entry.author_id,
                                           "grid": entry.grid.code,
                                           "day": entry.day.isoformat(), "event": "edited"})
    return entry
