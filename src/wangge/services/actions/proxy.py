"""Proxy handling (代办), door to door: the only place a proxy request is written.

The trip is a state machine kept as data (`STEPS`): each state lists the steps it allows,
and each step says who may take it. Every step is one transaction that locks the request,
appends a `ProxyEvent` (the timeline is never edited), writes an audit entry and an outbox
message (`services.proxy_<step>`, masked data only: numbers, codes and ids, never a name or
a phone) and restarts the stage clock (`clocks.stage_deadline(new state)`; None where the
stage has no clock of its own, e.g. in review, which runs on the application's clock).

At the door the worker's phone has already sent its photos and signatures as fieldwork
uploads (by SHA-256, `fieldwork.actions.uploads`), so a step names them by hash; the
materials become MaterialFiles of the request's Application (channel proxy), made by the
pre-review slice's helpers inside this step's transaction.

The field app sends the door steps as envelopes (`proxy.book` … `proxy.rate`, registered at
the bottom): the sync engine keeps the client key, so a phone that retries makes one
record and gets the first answer again. A refusal of this module is translated there:
ServiceError → the field named (invalid), IllegalStep → a conflict with the request as the
server holds it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import audit, crypto, outbox
from wangge.fieldwork.models import Appointment, Upload
from wangge.org.access import AnyUser, can_see_path, current_roles
from wangge.org.models import Role, RoleAssignment
from wangge.registry.models import House, Resident
from wangge.services import access
from wangge.services.actions import clocks
from wangge.services.actions.applicant import sealed_applicant
from wangge.services.actions.numbers import PROXY_PREFIX, next_no
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import (
    Application,
    Authorization,
    ProxyEvent,
    ProxyRequest,
    ServiceItem,
)
from wangge.territory.models import Grid, Level
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered

S = ProxyRequest.State

# -- the state machine, as data --------------------------------------------------------------

#: who may take a step: "door" (access.can_work_at_door: the assigned worker, the station and
#: grid chief above the grid), "department" (staff of the item's department, center admins),
#: "resident" (no login: the caller checked the follow code), "system" (the pre-review
#: decision, called by the applications slice)
DOOR, DEPARTMENT, RESIDENT, SYSTEM = "door", "department", "resident", "system"

#: step → (from states, to state, who may take it)
STEPS: dict[str, tuple[frozenset[str], str, frozenset[str]]] = {
    "collect": (frozenset({S.BOOKED}), S.COLLECTED, frozenset({DOOR})),
    "submit": (frozenset({S.COLLECTED}), S.IN_REVIEW, frozenset({DOOR})),
    "passed": (frozenset({S.IN_REVIEW}), S.HANDLING, frozenset({SYSTEM})),
    "returned": (frozenset({S.IN_REVIEW}), S.RETURNED, frozenset({SYSTEM})),
    "rejected": (frozenset({S.IN_REVIEW}), S.REJECTED, frozenset({SYSTEM})),
    "recollect": (frozenset({S.RETURNED}), S.COLLECTED, frozenset({DOOR})),
    "ready": (frozenset({S.HANDLING}), S.READY, frozenset({DEPARTMENT})),
    "deliver": (frozenset({S.READY}), S.DELIVERED, frozenset({DOOR})),
    "rate": (frozenset({S.DELIVERED}), S.RATED, frozenset({DOOR, RESIDENT})),
    # before the department has the materials: a resident who gives up after the worker
    # collected (or after a return) is not left with a request that stays open for ever
    "cancel": (frozenset({S.BOOKED, S.COLLECTED, S.RETURNED}), S.CANCELLED, frozenset({DOOR})),
}

#: where a request ends without a delivery: originals taken at the door are still to be
#: brought back (do_return_originals), the state stays
ENDED_UNDELIVERED = (S.REJECTED, S.CANCELLED)

#: the states whose request is still the worker's to act on (offline bundle, board)
OPEN_STATES = (S.BOOKED, S.COLLECTED, S.RETURNED, S.READY)

#: what the timeline says for each action
ACTION_LABELS: dict[str, str] = {
    "book": "预约代办", "collect": "上门收件", "submit": "提交部门预审",
    "passed": "预审通过，部门办理中", "returned": "预审退回补正", "rejected": "不予办理",
    "recollect": "补正材料已收取", "ready": "已出证，待送达", "deliver": "送证上门",
    "rate": "居民评价", "cancel": "已取消", "originals_returned": "原件已归还",
}

#: the 5-level satisfaction, 5 best
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

MAX_PHOTOS_PER_MATERIAL = 9
MAX_ORIGINALS = 20


def allowed_steps(state: str) -> list[str]:
    """The steps a request in `state` allows (for messages and the pages' buttons)."""
    return [step for step, (froms, _to, _who) in STEPS.items() if state in froms]


def _may(user: AnyUser | None, proxy: ProxyRequest, who: frozenset[str]) -> bool:
    if user is None:
        return RESIDENT in who
    if DOOR in who and access.can_work_at_door(user, proxy):
        return True
    return DEPARTMENT in who and user.is_authenticated and (
        user.is_superuser or any(r.role == Role.ADMIN for r in current_roles(user))
        # the department that pre-reviewed it (its version's), even if the item has moved
        or (proxy.application.department_id if proxy.application_id
            else proxy.item.department_id) in access.review_departments(user))


def _check_step(user: AnyUser | None, proxy: ProxyRequest, step: str) -> str:
    """The state the step leads to; IllegalStep naming the state and what it allows."""
    froms, to, who = STEPS[step]
    state_label = ProxyRequest.State(proxy.state).label
    if proxy.state not in froms:
        allowed = "、".join(ACTION_LABELS[s] for s in allowed_steps(proxy.state)
                           if STEPS[s][2] != {SYSTEM}) or _("无")
        raise IllegalStep(_("代办 %(no)s 当前为“%(state)s”，不能%(step)s；可进行：%(allowed)s") % {
            "no": proxy.no, "state": state_label, "step": ACTION_LABELS[step],
            "allowed": allowed})
    if SYSTEM not in who and not _may(user, proxy, who):
        raise IllegalStep(_("代办 %(no)s 当前为“%(state)s”，您无权%(step)s") % {
            "no": proxy.no, "state": state_label, "step": ACTION_LABELS[step]})
    return to


def _deadline(state: str, now: dt.datetime) -> dt.datetime | None:
    """The stage clock; a year the work calendar does not cover runs no clock (a request
    is never refused for it)."""
    try:
        return clocks.stage_deadline(state, now)
    except CalendarNotCovered:
        return None


def _lock(proxy: ProxyRequest) -> ProxyRequest:
    return (ProxyRequest.objects.select_for_update(of=("self",))
            .select_related("item", "grid", "worker", "application").get(pk=proxy.pk))


def _move(user: AnyUser | None, proxy: ProxyRequest, action: str, to: str, *,
          now: dt.datetime, note: str = "", data: dict[str, Any] | None = None,
          fields: tuple[str, ...] = ()) -> ProxyRequest:
    """The common tail of every step: state, stage clock, event, audit, outbox."""
    before = proxy.state
    proxy.state = to
    proxy.stage_due_at = _deadline(to, now)
    proxy.warned_at = proxy.breached_at = None
    proxy.save(update_fields=["state", "stage_due_at", "warned_at", "breached_at",
                              "updated_at", *fields])
    actor = user if user is not None and user.is_authenticated else None
    ProxyEvent.objects.create(proxy=proxy, actor=actor, action=action, from_state=before,
                              to_state=to, note=note[:500], data=data or {})
    audit.record(f"services.proxy_{action}", actor=actor, object_type="services.proxy",
                 object_id=proxy.pk, no=proxy.no, from_state=before, to_state=to)
    outbox.enqueue(f"services.proxy_{action}", {
        "proxy_id": proxy.pk, "no": proxy.no, "item": proxy.item.code,
        "grid": proxy.grid.code, "worker_id": proxy.worker_id, "from_state": before,
        "state": to, "at": now.isoformat(),
        "stage_due_at": proxy.stage_due_at.isoformat() if proxy.stage_due_at else None})
    return proxy


# -- input helpers ---------------------------------------------------------------------------

def _text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ServiceError(field, _("须为文字"))
    value = value.strip()
    if required and not value:
        raise ServiceError(field, _("必填"), "required")
    if len(value) > max_length:
        raise ServiceError(field, _("最多 %(n)d 个字") % {"n": max_length}, "too_long")
    return value


def _moment(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ServiceError(field, _("须为日期时间（ISO 8601）")) from None
    if not isinstance(value, dt.datetime):
        raise ServiceError(field, _("须为日期时间（ISO 8601）"))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= value <= dt.datetime(
            2100, 1, 1, tzinfo=dt.UTC):
        raise ServiceError(field, _("日期超出范围"))
    return value


def _upload(user: AnyUser | None, sha: Any, field: str) -> Upload:
    """The user's own upload with this hash (the phone sends the picture first)."""
    found = None
    if user is not None and user.is_authenticated and isinstance(sha, str):
        found = Upload.objects.filter(uploaded_by=user, sha256=sha.strip().lower()).first()
    if found is None:
        raise ServiceError(field, _("没有这张照片（请先上传）"), "unknown_upload")
    return found


def _read(upload: Upload) -> bytes:
    with upload.file.open("rb") as f:
        return f.read()


def next_morning(now: dt.datetime) -> dt.datetime:
    """09:00 of the next working day (the appointment when the resident gave no time)."""
    cal = calendar.current()
    day = timezone.localtime(now).date()
    for _i in range(30):
        day += dt.timedelta(days=1)
        try:
            if cal.is_workday(day):
                break
        except CalendarNotCovered:  # a year the calendar does not cover: weekdays only
            if day.weekday() < 5:
                break
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def _open(value: Any) -> str:
    return crypto.open_sealed(value) if value else ""


def short_name(item: ServiceItem) -> str:
    """What a worker's plan says for the item: its shortest alias when shorter, e.g.
    老年证年审 for 老年人优待证（老年证）办理与年审."""
    aliases = [a for a in (item.current.aliases if item.current_id else []) or []
               if isinstance(a, str) and a.strip()]
    best = min(aliases, key=len, default=item.name)
    return best if len(best) < len(item.name) else item.name


# -- booking ---------------------------------------------------------------------------------

#: the largest id a client may name (an integer column's range on both databases)
MAX_ID = 2**31 - 1


def _id(value: Any, field: str) -> int | None:
    """An id from a form, a JSON body or a phone's envelope: a positive integer or nothing
    (a string, a float or true is refused naming the field, never a 500 of the whole sync)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise ServiceError(field, _("须为正整数编号"), "invalid_id")
    return value

def do_book_proxy(actor: AnyUser | None, *, item_code: str, grid_id: int,
                  applicant: dict[str, Any] | None = None, at: dt.datetime | None = None,
                  channel: str = ProxyRequest.Channel.IN_PERSON, house_id: int | None = None,
                  resident_id: int | None = None, note: str = "") -> ProxyRequest:
    """A resident asks for a proxy (the QR page or the guide: no actor), or a worker records
    a request taken in person or by phone. The grid's responsible worker gets it, with an
    appointment in their day plan."""
    item = (ServiceItem.objects.select_related("current")
            .filter(code=item_code if isinstance(item_code, str) else "").first())
    if item is None or not item.active or item.current_id is None:
        raise ServiceError("item_code", _("没有这个在办事项"), "not_found")
    if not item.proxy_eligible:
        raise ServiceError("item_code", _("该事项不能由网格员代办"), "not_proxy_eligible")
    grid_id, house_id, resident_id = (_id(grid_id, "grid_id"), _id(house_id, "house_id"),
                                      _id(resident_id, "resident_id"))
    grid = Grid.objects.filter(pk=grid_id).first() if grid_id is not None else None
    if grid is None or (actor is not None and actor.is_authenticated and not (
            actor.is_superuser or can_see_path(actor, grid.path,
                                               access.DOOR_ROLES | access.BOARD_ROLES))):
        raise ServiceError("grid_id", _("没有这个网格"), "not_found")
    if grid.level != Level.BASIC:
        raise ServiceError("grid_id", _("须为基层网格"), "not_basic")
    if channel not in ProxyRequest.Channel.values:
        raise ServiceError("channel", _("来源不正确"), "choice")
    note = _text(note, "note", max_length=300)
    resident = house = None
    if resident_id is not None:
        resident = Resident.objects.select_related("house__building").filter(
            pk=resident_id, grid=grid).first()
        if resident is None:
            raise ServiceError("resident_id", _("该网格没有这位居民"), "not_found")
        house = resident.house
    if house_id is not None:
        house = House.objects.select_related("building").filter(pk=house_id, grid=grid).first()
        if house is None:
            raise ServiceError("house_id", _("该网格没有这处房屋"), "not_found")
    sealed = sealed_applicant(applicant, resident)
    now = timezone.now()
    at = _moment(at, "at") or next_morning(now)
    responsible = (RoleAssignment.objects.filter(grid=grid, role=Role.GRID_WORKER,
                                                 responsible=True, ended_on__isnull=True)
                   .select_related("person").first())
    if responsible is None:
        raise ServiceError("grid_id", _("该网格暂无责任网格员"), "no_worker")
    creator = actor if actor is not None and actor.is_authenticated else None
    address = ""
    if house is not None:
        address = f"{house.building.address} {house}"[:200]
    with transaction.atomic():
        appointment = Appointment.objects.create(
            worker=responsible.person, grid=grid, at=at, purpose=Appointment.Purpose.PROXY,
            resident=resident, house=house, note=short_name(item)[:200])
        proxy = ProxyRequest.objects.create(
            no=next_no(PROXY_PREFIX, now), item=item, resident=resident, grid=grid,
            house=house, address=address, worker=responsible.person, appointment=appointment,
            channel=channel, note=note, created_by=creator,
            stage_due_at=_deadline(S.BOOKED, now), **sealed)
        ProxyEvent.objects.create(proxy=proxy, actor=creator, action="book", to_state=S.BOOKED,
                                  note=note, data={"channel": channel, "at": at.isoformat()})
        audit.record("services.proxy_book", actor=creator, object_type="services.proxy",
                     object_id=proxy.pk, no=proxy.no, item=item.code, grid=grid.code,
                     channel=channel)
        outbox.enqueue("services.proxy_book", {
            "proxy_id": proxy.pk, "no": proxy.no, "item": item.code, "grid": grid.code,
            "worker_id": responsible.person_id, "appointment_id": appointment.pk,
            "state": S.BOOKED, "at": at.isoformat(), "channel": channel})
    return proxy


# -- at the door -----------------------------------------------------------------------------

def _material_uploads(user: AnyUser, application: Application | None, item: ServiceItem,
                      materials: Any, *, all_required: bool) -> list[tuple[str, Upload]]:
    """(key, upload) for each named photo; keys must be the guide's materials."""
    if not isinstance(materials, dict) or not materials:
        raise ServiceError("materials", _("请拍摄申请材料"), "required")
    version = application.version if application is not None else item.current
    known = {m.get("key"): m for m in version.materials}
    out: list[tuple[str, Upload]] = []
    for key, hashes in materials.items():
        if key not in known:
            raise ServiceError(f"materials.{key}", _("不是该事项的申请材料"), "unknown_material")
        if not isinstance(hashes, list) or not hashes:
            raise ServiceError(f"materials.{key}", _("请至少拍摄一张"), "required")
        if len(hashes) > MAX_PHOTOS_PER_MATERIAL:
            raise ServiceError(f"materials.{key}", _("最多 %(n)d 张") % {
                "n": MAX_PHOTOS_PER_MATERIAL}, "too_many")
        out += [(key, _upload(user, h, f"materials.{key}.{i}")) for i, h in enumerate(hashes)]
    if all_required:
        for m in version.materials:
            if m.get("required") and m.get("key") not in materials:
                raise ServiceError(f"materials.{m.get('key')}",
                                   _("缺少必需材料：%(name)s") % {"name": m.get("name", "")},
                                   "required")
    return out


def _originals(value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_ORIGINALS:
        raise ServiceError("originals", _("原件清单须为列表，最多 %(n)d 项") % {"n": MAX_ORIGINALS})
    out = []
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise ServiceError(f"originals.{i}", _("须写明名称和份数"))
        name = _text(row.get("name"), f"originals.{i}.name", max_length=100, required=True)
        count = row.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 99:
            raise ServiceError(f"originals.{i}.count", _("份数须为 1 到 99"))
        out.append({"name": name, "count": count})
    return out


def do_collect(actor: AnyUser, proxy: ProxyRequest, *, materials: dict[str, list[str]],
               signature: str, signer_name: str, originals: list[dict[str, Any]] | None = None,
               at: dt.datetime | None = None) -> ProxyRequest:
    """At the door: the materials photographed (they become the Application's files), the
    委托书 signed on the phone's screen, a receipt of the originals taken; the appointment
    is done."""
    from wangge.services.actions.applications import do_open_application, store_material

    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "collect")
        uploads = _material_uploads(actor, None, proxy.item, materials, all_required=True)
        sign = _upload(actor, signature, "signature")
        signer = _text(signer_name, "signer_name", max_length=50, required=True)
        taken = _originals(originals)
        now = timezone.now()
        when = _moment(at, "at") or now
        application = do_open_application(
            actor, item_code=proxy.item.code,
            applicant={"name": proxy.applicant_name, "id_number": _open(proxy.id_number_enc),
                       "phone": _open(proxy.phone_enc)},
            grid_id=proxy.grid_id, resident_id=proxy.resident_id,
            channel=Application.Channel.PROXY)
        for key, upload in uploads:
            store_material(application, key, _read(upload), upload.content_type, actor)
        Authorization.objects.create(
            proxy=proxy, signer_name=signer, signature=sign, signed_at=when,
            text=_("本人%(signer)s委托网格员%(worker)s代为办理“%(item)s”，并提交相关材料。") % {
                "signer": signer, "worker": proxy.worker.name, "item": proxy.item.name})
        if proxy.appointment_id:
            Appointment.objects.filter(pk=proxy.appointment_id).update(
                state=Appointment.State.DONE)
        proxy.application, proxy.originals, proxy.collected_at = application, taken, when
        return _move(actor, proxy, "collect", to, now=now, fields=(
            "application", "originals", "collected_at"), data={
            "materials": {k: list(v) for k, v in materials.items()}, "signature": sign.sha256,
            "originals": taken})


def do_submit_proxy(actor: AnyUser, proxy: ProxyRequest) -> ProxyRequest:
    """The collected materials go to the department's pre-review."""
    from wangge.services.actions.applications import do_submit

    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "submit")
        if proxy.application is None:  # collected always made one; a guard for old rows
            raise IllegalStep(_("代办 %(no)s 没有收取材料") % {"no": proxy.no})
        application = do_submit(actor, proxy.application, via_proxy=True)
        return _move(actor, proxy, "submit", to, now=timezone.now(),
                     data={"application": application.no, "round": application.round})


def do_recollect(actor: AnyUser, proxy: ProxyRequest, *,
                 materials: dict[str, list[str]]) -> ProxyRequest:
    """The materials the department asked to correct, photographed again at the door (a new
    round of files; the history stays). Submitting again sends them back to review."""
    from wangge.services.actions.applications import store_material

    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "recollect")
        application = Application.objects.select_for_update().select_related("version").get(
            pk=proxy.application_id)
        uploads = _material_uploads(actor, application, proxy.item, materials,
                                    all_required=False)
        for key, upload in uploads:
            store_material(application, key, _read(upload), upload.content_type, actor)
        return _move(actor, proxy, "recollect", to, now=timezone.now(),
                     data={"materials": {k: list(v) for k, v in materials.items()}})


def on_application_decided(application: Application, actor: AnyUser) -> None:
    """Move the proxy request of `application` on (passed → handling, returned → returned,
    rejected → rejected). Called by the applications slice inside the decision's
    transaction; an application decided twice moves the request once."""
    proxy = ProxyRequest.objects.filter(application=application).first()
    if proxy is None:
        return
    proxy = _lock(proxy)
    step = {Application.State.PASSED: "passed", Application.State.RETURNED: "returned",
            Application.State.REJECTED: "rejected"}.get(application.state)
    if step is None or proxy.state not in STEPS[step][0]:
        return
    _move(actor, proxy, step, STEPS[step][1], now=timezone.now(), note=application.reason,
          data={"application": application.no, "round": application.round})


def do_mark_ready(actor: AnyUser, proxy: ProxyRequest, note: str = "") -> ProxyRequest:
    """The department has the certificate or result ready and hands it to the worker."""
    note = _text(note, "note", max_length=300)
    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "ready")
        now = timezone.now()
        proxy.ready_at = now
        return _move(actor, proxy, "ready", to, now=now, note=note, fields=("ready_at",))


def do_deliver(actor: AnyUser, proxy: ProxyRequest, *, recipient_name: str, signature: str,
               photo: str, originals_returned: bool = False) -> ProxyRequest:
    """送证上门: the recipient signs on the phone, a photo of the handover, the originals
    returned (required when originals were taken)."""
    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "deliver")
        recipient = _text(recipient_name, "recipient_name", max_length=50, required=True)
        sign = _upload(actor, signature, "signature")
        picture = _upload(actor, photo, "photo")
        if not isinstance(originals_returned, bool):
            raise ServiceError("originals_returned", _("须为是或否"))
        if proxy.originals and not originals_returned:
            raise ServiceError("originals_returned", _("收取过原件，须当面归还后再确认送达"),
                               "originals_not_returned")
        now = timezone.now()
        proxy.recipient_name, proxy.delivery_signature, proxy.delivery_photo = (
            recipient, sign, picture)
        proxy.delivered_at = now
        fields = ["recipient_name", "delivery_signature", "delivery_photo", "delivered_at"]
        if proxy.originals:
            proxy.originals_returned_at = now
            fields.append("originals_returned_at")
        return _move(actor, proxy, "deliver", to, now=now, fields=tuple(fields), data={
            "signature": sign.sha256, "photo": picture.sha256,
            "originals_returned": bool(proxy.originals)})


def do_rate_proxy(actor: AnyUser | None, proxy: ProxyRequest, rating: int,
                  comment: str = "") -> ProxyRequest:
    """The resident's satisfaction (非常满意 … 非常不满意), from the worker's phone or the
    resident's own status page (actor None: the page checked the follow code)."""
    if not isinstance(rating, int) or isinstance(rating, bool) or rating not in RATING_LABELS:
        raise ServiceError("rating", _("满意度须为 1 到 5"), "choice")
    comment = _text(comment, "comment", max_length=300)
    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "rate")
        proxy.rating, proxy.rating_comment = rating, comment
        return _move(actor, proxy, "rate", to, now=timezone.now(), note=comment,
                     fields=("rating", "rating_comment"),
                     data={"rating": rating, "label": RATING_LABELS[rating]})


def do_cancel(actor: AnyUser, proxy: ProxyRequest, reason: str) -> ProxyRequest:
    """The resident no longer needs it (or did it themselves), before the department has the
    materials: booked, collected, or returned for correction. Its application is withdrawn
    in the same transaction; originals taken are then returned with do_return_originals."""
    from wangge.services.actions.applications import WITHDRAWABLE, do_withdraw

    reason = _text(reason, "reason", max_length=300, required=True)
    with transaction.atomic():
        proxy = _lock(proxy)
        to = _check_step(actor, proxy, "cancel")
        if proxy.appointment_id:
            Appointment.objects.filter(pk=proxy.appointment_id, state=Appointment.State.BOOKED
                                       ).update(state=Appointment.State.CANCELLED)
        if proxy.application_id and proxy.application.state in WITHDRAWABLE:
            do_withdraw(actor, proxy.application, via_proxy=True)
        return _move(actor, proxy, "cancel", to, now=timezone.now(), note=reason)


def do_return_originals(actor: AnyUser, proxy: ProxyRequest) -> ProxyRequest:
    """Originals taken at the door, brought back when the request ended without a delivery
    (rejected, cancelled): recorded on the timeline, the state stays."""
    with transaction.atomic():
        proxy = _lock(proxy)
        if not access.can_work_at_door(actor, proxy):
            raise IllegalStep(_("代办 %(no)s：您无权登记原件归还") % {"no": proxy.no})
        if proxy.state not in ENDED_UNDELIVERED or not proxy.originals \
                or proxy.originals_returned_at is not None:
            raise IllegalStep(_("代办 %(no)s 没有待归还的原件（送达时一并归还）") % {
                "no": proxy.no})
        now = timezone.now()
        proxy.originals_returned_at = now
        proxy.save(update_fields=["originals_returned_at", "updated_at"])
        user = actor if actor.is_authenticated else None
        ProxyEvent.objects.create(proxy=proxy, actor=user, action="originals_returned",
                                  from_state=proxy.state, to_state=proxy.state,
                                  data={"originals": list(proxy.originals)})
        audit.record("services.proxy_originals_returned", actor=user,
                     object_type="services.proxy", object_id=proxy.pk, no=proxy.no)
        outbox.enqueue("services.proxy_originals_returned", {
            "proxy_id": proxy.pk, "no": proxy.no, "state": proxy.state,
            "at": now.isoformat()})
        return proxy
