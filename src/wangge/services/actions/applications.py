"""Online pre-review (网上预审): open an application, upload materials, submit, the
reviewer's verdicts and decision, resubmission after a return, withdrawal.

Rounds: an application is reviewed in rounds. Files uploaded while it is a draft belong to
round 1; after a return, corrected files belong to the next round (`round + 1`) and the
round moves on when the applicant resubmits. A material accepted in an earlier round carries
over (nobody uploads it again); only the materials to correct are asked for. Nothing is
overwritten: every file and every verdict of every round is kept.

Who may act: the applicant side (a resident without a login, after the caller checked the
number and follow code; whoever created it; the territory roles of its grid) uploads,
submits and withdraws; the reviewers of the item's department (and the center's admins)
check and decide (services.access.can_review). A record the user cannot see is a 404;
a step its state does not allow is IllegalStep naming the state.

Personal data: the applicant's ID number and phone are sealed, hashed and masked here
(never stored in clear); outbox messages carry masked values only.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from wangge.cases.errors import CaseError
from wangge.cases.photos import check_photo
from wangge.core import audit, idempotency, outbox
from wangge.org.access import can_see_path, in_reach
from wangge.registry.identity import mask_name
from wangge.registry.models import Resident
from wangge.services import access
from wangge.services.actions.applicant import sealed_applicant
from wangge.services.actions.clocks import prereview_deadline
from wangge.services.actions.numbers import APPLICATION_PREFIX, next_no
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import (
    Application,
    ApplicationEvent,
    ItemVersion,
    MaterialCheck,
    MaterialFile,
    ProxyRequest,
    ServiceItem,
)
from wangge.territory.models import Grid
from wangge.workcal.deadlines import CalendarNotCovered

Actor = AbstractBaseUser | AnonymousUser | None

#: the idempotency key's object type of an application
OBJECT_TYPE = "services.application"
#: states in which the applicant side may still change the materials
EDITABLE = (Application.State.DRAFT, Application.State.RETURNED)
#: states a withdrawal is allowed from (a decided application stays as decided)
WITHDRAWABLE = (Application.State.DRAFT, Application.State.SUBMITTED,
                Application.State.RETURNED)
PDF_CONTENT_TYPE = "application/pdf"
#: files one material may have in one round (the pages of a 户口簿 fit)
MAX_FILES_PER_MATERIAL = 9
#: how far from the end a PDF's %%EOF may sit (trailing whitespace, a final newline)
PDF_TAIL = 1024
REASON_MAX = Application._meta.get_field("reason").max_length or 500
CHECK_REASON_MAX = MaterialCheck._meta.get_field("reason").max_length or 300


def material_max_bytes() -> int:
    """WANGGE_MATERIAL_MAX_BYTES if the deployment sets one, else the photos' limit."""
    return int(getattr(settings, "WANGGE_MATERIAL_MAX_BYTES", settings.WANGGE_PHOTO_MAX_BYTES))


def _user(actor: Actor) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None  # type: ignore[return-value]


def _state_label(application: Application) -> str:
    return str(Application.State(application.state).label)


def _event(application: Application, actor: Actor, action: str, from_state: str,
           note: str = "", **data: Any) -> None:
    ApplicationEvent.objects.create(application=application, actor=_user(actor), action=action,
                                    from_state=from_state, to_state=application.state,
                                    note=note[:500], data=data)


def _audit(action: str, actor: Actor, application: Application, **detail: Any) -> None:
    audit.record(f"services.application.{action}", actor=actor, object_type="services.application",
                 object_id=application.pk, no=application.no, **detail)


def facts(application: Application) -> dict[str, Any]:
    """What an outbox receiver needs to know, with masked personal data only."""
    return {
        "no": application.no, "item_code": application.item.code,
        "item_name": application.item.name, "version": application.version.number,
        "department": application.department.code, "state": application.state,
        "round": application.round, "channel": application.channel,
        "grid": application.grid.code if application.grid_id else None,
        "applicant_masked": mask_name(application.applicant_name),
        "phone_masked": application.phone_masked,
        "due_at": application.due_at.isoformat() if application.due_at else None,
        "reason": application.reason,
    }


# ---------------------------------------------------------------------------- opening


def _open_item(item_code: str, channel: str) -> tuple[ServiceItem, ItemVersion]:
    item = (access.visible_items().select_related("current", "department")
            .filter(code=str(item_code or "")).first())
    version = item.current if item is not None else None
    if item is None or version is None or version.state != ItemVersion.State.PUBLISHED:
        raise ServiceError("item_code", "没有这个在办事项", "not_found")
    if not version.online_prereview and channel != Application.Channel.PROXY:
        raise ServiceError("item_code", "该事项不提供网上预审", "no_prereview")
    return item, version


def _place(user: AbstractBaseUser | None, grid_id: int | None, resident_id: int | None
           ) -> tuple[int | None, int | None]:
    """(grid id, resident id): the grid named, else the resident's house's grid. A logged-in
    applicant names only residents and grids in their own reach: the answer must not tell
    anyone else whether a resident exists or where they live."""
    resident = None
    if resident_id is not None:
        residents = Resident.objects.select_related("house")
        if user is not None:
            residents = residents.filter(in_reach(user))
        resident = residents.filter(pk=resident_id).first()
        if resident is None:
            raise ServiceError("resident_id", "没有这个登记人口", "not_found")
    if grid_id is not None:
        grid = Grid.objects.filter(pk=grid_id).only("path").first()
        if grid is None or (user is not None and not user.is_superuser and not can_see_path(
                user, grid.path, access.APPLY_ROLES)):
            raise ServiceError("grid_id", "没有这个网格", "not_found")
        return grid_id, resident_id
    if resident is not None:
        return resident.house.grid_id, resident.pk
    return None, None


def do_open_application(actor: Actor, *, item_code: str, applicant: dict[str, Any],
                        grid_id: int | None = None, resident_id: int | None = None,
                        channel: str = Application.Channel.PUBLIC,
                        client_key: str | None = None) -> Application:
    """A new draft application under the item's published version (pinned: a later edit of
    the guide never changes what this applicant is asked for). A retried call with the same
    `client_key` (per logged-in user) answers the first application."""
    user = _user(actor)
    if channel not in Application.Channel.values:
        raise ServiceError("channel", "渠道不正确")
    try:
        if user is not None and (earlier := idempotency.replayed(user, client_key, OBJECT_TYPE)):
            return Application.objects.get(pk=earlier)
    except idempotency.KeyRefused as e:
        raise ServiceError("client_key", str(e)) from None
    item, version = _open_item(item_code, channel)
    sealed = sealed_applicant(applicant)
    grid, resident = _place(user, grid_id, resident_id)
    try:
        with transaction.atomic():
            if user is not None and (earlier := idempotency.replayed(user, client_key,
                                                                     OBJECT_TYPE)):
                return Application.objects.get(pk=earlier)
            application = Application.objects.create(
                no=next_no(APPLICATION_PREFIX), item=item, version=version,
                department_id=version.department_id, grid_id=grid, resident_id=resident,
                channel=channel, created_by=user, **sealed)
            if user is not None:
                idempotency.remember(user, client_key, OBJECT_TYPE, application.pk)
            _event(application, actor, "opened", "", version=version.number, channel=channel)
            _audit("opened", actor, application, item=item.code, version=version.number,
                   channel=channel)
    except IntegrityError:
        if user is not None and (earlier := idempotency.replayed(user, client_key, OBJECT_TYPE)):
            return Application.objects.get(pk=earlier)
        raise
    return application


# ---------------------------------------------------------------------------- materials


def _pdf_ok(raw: bytes) -> bool:
    """A PDF by its structure, without a PDF library: the header, an end-of-file marker near
    the end, and at least one object. Served as an attachment link, never rendered inline by
    us, so a malformed body cannot hurt the server."""
    return (raw.startswith(b"%PDF-") and b"%%EOF" in raw[-PDF_TAIL:]
            and b" obj" in raw)


def _checked(raw: bytes, field: str) -> tuple[bytes, str, str]:
    """(content to store, suffix, content type): the type from the bytes, never the name."""
    limit = material_max_bytes()
    if not raw:
        raise ServiceError(field, "文件是空的", "empty")
    if len(raw) > limit:
        raise ServiceError(field, f"文件不能超过 {limit // (1024 * 1024)} MB", "too_large")
    if raw.startswith(b"%PDF-"):
        if not _pdf_ok(raw):
            raise ServiceError(field, "PDF 文件不完整或已损坏", "bad_pdf")
        return raw, ".pdf", PDF_CONTENT_TYPE
    try:
        photo = check_photo(raw, field)
    except CaseError as e:
        raise ServiceError(field, "只接受 JPEG、PNG、WebP 图片或 PDF 文件（无法识别或已损坏）",
                           "unsupported_type") from e
    return photo.content, photo.suffix, photo.content_type


def upload_round(application: Application) -> int:
    """The round a new file belongs to: after a return, the next one."""
    return application.round + (1 if application.state == Application.State.RETURNED else 0)


def store_material(application: Application, material_key: str, raw: bytes, content_type: str,
                   actor: Actor) -> MaterialFile:
    """Check and store one file of one material (no state change, no transaction of its own:
    the proxy slice calls it inside its own). The same bytes again for the same material and
    round answer the file stored first (a retried upload). `content_type` as declared is
    not trusted; the stored type is the decoded one."""
    version = application.version
    if version.material(str(material_key or "")) is None:
        raise ServiceError("material_key", "该事项没有这项材料", "unknown_material")
    content, suffix, kind = _checked(raw, "file")
    digest = hashlib.sha256(raw).hexdigest()
    round_no = upload_round(application)
    earlier = MaterialFile.objects.filter(application=application, material_key=material_key,
                                          round=round_no, sha256=digest).first()
    if earlier is not None:
        return earlier
    if MaterialFile.objects.filter(application=application, material_key=material_key,
                                   round=round_no).count() >= MAX_FILES_PER_MATERIAL:
        # pages of one document fit; a draft is not a free file store
        raise ServiceError("file", f"每项材料最多上传 {MAX_FILES_PER_MATERIAL} 个文件",
                           "too_many_files")
    stored = MaterialFile(application=application, material_key=material_key, round=round_no,
                          sha256=digest, content_type=kind, size=len(content),
                          uploaded_by=_user(actor))
    # a random name: the path says nothing about the applicant and cannot be guessed
    stored.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(content), save=False)
    stored.save()
    return stored


def _check_applicant_side(actor: Actor, application: Application, *,
                          via_proxy: bool = False) -> None:
    """Anonymous callers were let in by number and follow code; a logged-in one must be able
    to act for the applicant (see access.can_apply_for). The application of a proxy request
    moves only with its request (services.actions.proxy passes `via_proxy`): submitted or
    withdrawn on its own, the request would wait for a decision that never reaches it."""
    if application.channel == Application.Channel.PROXY and not via_proxy:
        raise IllegalStep("这是代办件的预审办件：由网格员在代办中收件、补正和提交")
    user = _user(actor)
    if user is None:
        return
    if not access.can_apply_for(user, application):
        if not access.visible_applications(user).filter(pk=application.pk).exists():
            raise Http404("no such application")
        raise IllegalStep("预审人员不能代替申请人上传、提交或撤回材料")


def _returned_keys(application: Application) -> set[str]:
    """The materials the last return asked to correct."""
    return set(MaterialCheck.objects.filter(
        application=application, round=application.round,
        verdict=MaterialCheck.Verdict.CORRECT).values_list("material_key", flat=True))


def do_upload_material(actor: Actor, application: Application, material_key: str, raw: bytes,
                       content_type: str) -> MaterialFile:
    """One file of a draft, or of a returned application's materials to correct."""
    _check_applicant_side(actor, application)
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related(
            "version", "item", "department").get(pk=application.pk)
        if application.state not in EDITABLE:
            raise IllegalStep(f"办件处于「{_state_label(application)}」状态，不能再上传材料")
        if (application.state == Application.State.RETURNED
                and material_key not in _returned_keys(application)
                and application.version.material(material_key) is not None
                and _accepted_before(application, material_key)):
            raise ServiceError("material_key", "这项材料已审查合格，无需重新上传", "accepted")
        stored = store_material(application, material_key, raw, content_type, actor)
        _event(application, actor, "uploaded", application.state, material_key=material_key,
               round=stored.round, sha256=stored.sha256)
        _audit("uploaded", actor, application, material_key=material_key, round=stored.round,
               file=stored.pk)
    return stored


def _accepted_before(application: Application, key: str) -> bool:
    return MaterialCheck.objects.filter(application=application, material_key=key,
                                        verdict=MaterialCheck.Verdict.ACCEPTED).exists()


# ---------------------------------------------------------------------------- submitting


def _missing(application: Application, round_no: int) -> list[dict[str, Any]]:
    """The materials this round still needs a file for: in the first round every required
    one; after a return, the ones to correct."""
    version = application.version
    if application.state == Application.State.RETURNED:
        wanted = [m for m in version.materials if m.get("key") in _returned_keys(application)]
    else:
        wanted = [m for m in version.materials if m.get("required", True)]
    have = set(MaterialFile.objects.filter(application=application, round=round_no)
               .values_list("material_key", flat=True))
    return [m for m in wanted if m.get("key") not in have]


def do_submit(actor: Actor, application: Application, *, via_proxy: bool = False
              ) -> Application:
    """Draft or returned → submitted; starts the pre-review clock (the item's
    prereview_days in working days)."""
    _check_applicant_side(actor, application, via_proxy=via_proxy)
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related(
            "version", "item", "department", "grid").get(pk=application.pk)
        if application.state not in EDITABLE:
            raise IllegalStep(f"办件处于「{_state_label(application)}」状态，不能提交")
        round_no = upload_round(application)
        if (missing := _missing(application, round_no)):
            names = "、".join(str(m.get("name") or m.get("key")) for m in missing)
            raise ServiceError("materials", f"还缺少材料：{names}", "missing_material")
        before = application.state
        now = timezone.now()
        application.round = round_no
        application.state = Application.State.SUBMITTED
        application.submitted_at = now
        try:
            application.due_at = prereview_deadline(application.version, now)
        except CalendarNotCovered as e:  # never refuse an application for a missing year
            application.due_at, calendar_missing = None, e.year
        else:
            calendar_missing = None
        application.warned_at = application.breached_at = application.escalated_at = None
        application.save(update_fields=["round", "state", "submitted_at", "due_at", "warned_at",
                                        "breached_at", "escalated_at"])
        action = "resubmitted" if before == Application.State.RETURNED else "submitted"
        _event(application, actor, action, before, round=round_no,
               due_at=application.due_at.isoformat() if application.due_at else None,
               calendar_missing=calendar_missing)
        _audit(action, actor, application, round=round_no)
        outbox.enqueue("services.application_submitted", facts(application))
    return application


def do_withdraw(actor: Actor, application: Application, *, via_proxy: bool = False
                ) -> Application:
    _check_applicant_side(actor, application, via_proxy=via_proxy)
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related(
            "version", "item", "department", "grid").get(pk=application.pk)
        if application.state not in WITHDRAWABLE:
            raise IllegalStep(f"办件处于「{_state_label(application)}」状态，不能撤回")
        before = application.state
        application.state = Application.State.WITHDRAWN
        application.save(update_fields=["state"])
        _event(application, actor, "withdrawn", before)
        _audit("withdrawn", actor, application)
        outbox.enqueue("services.application_withdrawn", facts(application))
    return application


# ---------------------------------------------------------------------------- reviewing


def _check_reviewer(reviewer: Actor, application: Application) -> AbstractBaseUser:
    user = _user(reviewer)
    if user is None or not access.visible_applications(user).filter(pk=application.pk).exists():
        raise Http404("no such application")
    if not access.can_review(user, application):
        raise IllegalStep("只有该事项的预审部门可以审查")
    return user


def verdicts(application: Application) -> dict[str, MaterialCheck | None]:
    """Material key → the verdict that counts in the current round: this round's, else an
    earlier round's acceptance (accepted materials carry over), else None."""
    out: dict[str, MaterialCheck | None] = {}
    for check in MaterialCheck.objects.filter(application=application).order_by("round"):
        if check.round == application.round or check.verdict == MaterialCheck.Verdict.ACCEPTED:
            out[check.material_key] = check
    return out


def _has_file(application: Application) -> set[str]:
    return set(MaterialFile.objects.filter(application=application,
                                           round__lte=application.round)
               .values_list("material_key", flat=True))


def do_check_material(reviewer: Actor, application: Application, key: str, verdict: str,
                      reason: str = "") -> MaterialCheck:
    """The reviewer's verdict on one material in this round (changed freely until decided)."""
    user = _check_reviewer(reviewer, application)
    reason = (reason or "").strip()
    if verdict not in MaterialCheck.Verdict.values:
        raise ServiceError("verdict", "审查结果只能是“合格”或“需补正”")
    if verdict == MaterialCheck.Verdict.CORRECT and not reason:
        raise ServiceError("reason", "需补正的材料请写明理由", "required")
    if len(reason) > CHECK_REASON_MAX:
        raise ServiceError("reason", f"理由最多 {CHECK_REASON_MAX} 个字", "too_long")
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related(
            "version", "item", "department").get(pk=application.pk)
        if application.state != Application.State.SUBMITTED:
            raise IllegalStep(f"办件处于「{_state_label(application)}」状态，不能审查材料")
        if application.version.material(str(key or "")) is None:
            raise ServiceError("material_key", "该事项没有这项材料", "unknown_material")
        if key not in _has_file(application):
            raise ServiceError("material_key", "这项材料还没有上传文件", "no_file")
        check, _ = MaterialCheck.objects.update_or_create(
            application=application, round=application.round, material_key=key,
            defaults={"verdict": verdict, "reason": reason, "reviewer": user})
        _event(application, user, "checked", application.state, note=reason,
               material_key=key, verdict=verdict, round=application.round)
        _audit("checked", user, application, material_key=key, verdict=verdict,
               round=application.round)
    return check


def do_decide(reviewer: Actor, application: Application, decision: str,
              reason: str = "") -> Application:
    """pass (every material accepted), return for correction (at least one to correct) or
    reject (with a reason). Stops the clock; tells the proxy request, if there is one."""
    user = _check_reviewer(reviewer, application)
    reason = (reason or "").strip()
    if decision not in ("pass", "return", "reject"):
        raise ServiceError("decision", "结论只能是通过、退回补正或不予通过")
    if len(reason) > REASON_MAX:
        raise ServiceError("reason", f"理由最多 {REASON_MAX} 个字", "too_long")
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related(
            "version", "item", "department", "grid").get(pk=application.pk)
        if application.state != Application.State.SUBMITTED:
            raise IllegalStep(f"办件处于「{_state_label(application)}」状态，不能作出预审结论")
        current = verdicts(application)
        version = application.version
        names = {m.get("key"): str(m.get("name") or m.get("key")) for m in version.materials}
        concerned = _has_file(application) | {m.get("key") for m in version.materials
                                              if m.get("required", True)}
        to_correct = [k for k, c in current.items()
                      if c is not None and c.round == application.round
                      and c.verdict == MaterialCheck.Verdict.CORRECT]
        if decision == "pass":
            pending = [k for k in sorted(concerned, key=str)
                       if current.get(k) is None
                       or current[k].verdict != MaterialCheck.Verdict.ACCEPTED]  # type: ignore[union-attr]
            if pending:
                raise ServiceError("decision", "还有材料未审查合格："
                                   + "、".join(names.get(k, str(k)) for k in pending),
                                   "materials_pending")
            state = Application.State.PASSED
        elif decision == "return":
            if not to_correct:
                raise ServiceError("decision", "退回补正前请至少把一项材料标为“需补正”",
                                   "nothing_to_correct")
            if not reason:
                reason = "；".join(f"{names.get(k, k)}：{current[k].reason}"  # type: ignore[union-attr]
                                  for k in to_correct)[:REASON_MAX]
            state = Application.State.RETURNED
        else:
            if not reason:
                raise ServiceError("reason", "不予通过请写明理由", "required")
            state = Application.State.REJECTED
        before = application.state
        application.state = state
        application.reason = reason
        application.decided_at = timezone.now()
        application.decided_by = user
        application.save(update_fields=["state", "reason", "decided_at", "decided_by"])
        _event(application, user, decision, before, note=reason, round=application.round,
               to_correct=to_correct if decision == "return" else [])
        _audit("decided", user, application, decision=decision, round=application.round)
        outbox.enqueue("services.application_decided",
                       {**facts(application), "decision": decision,
                        "to_correct": to_correct if decision == "return" else []})
        if ProxyRequest.objects.filter(application=application).exists():
            from wangge.services.actions import proxy

            proxy.on_application_decided(application, user)
    return application
