"""Read shapes of applications (办件) for the API, the reviewer inbox and the status page:
built only from records services.access returned, with masked personal data. The materials
checklist is the pinned version's, with each material's files per round and the verdict that
counts now (this round's, or an earlier acceptance carried over)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.registry.identity import mask_name
from wangge.services.actions.applications import verdicts
from wangge.services.actions.reads import do_log_file_read
from wangge.services.models import Application, MaterialCheck, MaterialFile

#: what each timeline action is called on the pages
EVENT_LABELS = {
    "opened": _("创建办件"), "uploaded": _("上传材料"), "submitted": _("提交预审"),
    "resubmitted": _("补正后再次提交"), "checked": _("审查材料"), "pass": _("预审通过"),
    "return": _("退回补正"), "reject": _("不予通过"), "withdrawn": _("撤回"),
    "clock_warning": _("临近预审期限"), "escalated": _("预审超期，已督办"),
}


def is_overdue(a: Application, now: dt.datetime | None = None) -> bool:
    return (a.state == Application.State.SUBMITTED and a.due_at is not None
            and a.due_at <= (now or timezone.now()))


def overdue(qs: QuerySet[Application], now: dt.datetime | None = None) -> QuerySet[Application]:
    return qs.filter(state=Application.State.SUBMITTED, due_at__lte=now or timezone.now())


def row(a: Application, now: dt.datetime | None = None) -> dict[str, Any]:
    """One line of a list: masked, no file contents, no follow code."""
    return {
        "id": a.pk, "no": a.no, "state": a.state,
        "state_label": str(Application.State(a.state).label),
        "item_code": a.item.code, "item_name": a.item.name,
        "department": a.department.code, "department_name": a.department.name,
        "grid": a.grid.code if a.grid_id else None,
        "grid_name": a.grid.name if a.grid_id else None,
        "channel": a.channel, "round": a.round,
        "applicant_masked": mask_name(a.applicant_name),
        "id_number_masked": a.id_number_masked, "phone_masked": a.phone_masked,
        "created_at": a.created_at, "submitted_at": a.submitted_at, "due_at": a.due_at,
        "decided_at": a.decided_at, "overdue": is_overdue(a, now),
        "breached_at": a.breached_at, "escalated_at": a.escalated_at, "reason": a.reason,
    }


def checklist(a: Application) -> list[dict[str, Any]]:
    """The pinned version's materials, each with its files (every round, oldest first), the
    verdict that counts now and this round's verdict history."""
    files: dict[str, list[MaterialFile]] = defaultdict(list)
    for f in MaterialFile.objects.filter(application=a).order_by("round", "uploaded_at", "pk"):
        files[f.material_key].append(f)
    history: dict[str, list[MaterialCheck]] = defaultdict(list)
    for c in MaterialCheck.objects.filter(application=a).order_by("round"):
        history[c.material_key].append(c)
    current = verdicts(a)
    out = []
    for m in a.version.materials:
        key = str(m.get("key"))
        now = current.get(key)
        out.append({
            "key": key, "name": str(m.get("name") or key), "form": str(m.get("form") or ""),
            "count": int(m.get("count") or 1), "required": bool(m.get("required", True)),
            "condition": str(m.get("condition") or ""), "note": str(m.get("note") or ""),
            "verdict": now.verdict if now else None,
            "verdict_label": str(MaterialCheck.Verdict(now.verdict).label) if now else None,
            "verdict_round": now.round if now else None,
            "reason": now.reason if now else "",
            "files": [file_row(f) for f in files.get(key, [])],
            "checks": [{"round": c.round, "verdict": c.verdict, "reason": c.reason,
                        "at": c.at} for c in history.get(key, [])],
        })
    return out


def file_row(f: MaterialFile) -> dict[str, Any]:
    return {"id": f.pk, "material_key": f.material_key, "round": f.round,
            "content_type": f.content_type, "size": f.size, "sha256": f.sha256,
            "is_image": f.content_type.startswith("image/"), "uploaded_at": f.uploaded_at}


def events(a: Application, *, public: bool = False) -> list[dict[str, Any]]:
    """The timeline; the public one leaves out who acted and internal notes."""
    out = []
    for e in a.events.all():
        item: dict[str, Any] = {"at": e.at, "action": e.action,
                                "label": str(EVENT_LABELS.get(e.action, e.action)),
                                "from_state": e.from_state,
                                "to_state": e.to_state, "note": e.note,
                                "round": e.data.get("round")}
        if public:
            if e.action in ("checked", "clock_warning", "escalated"):
                continue
            item["note"] = e.note if e.action in ("return", "reject") else ""
        out.append(item)
    return out


def detail(a: Application, *, follow_code: bool = False) -> dict[str, Any]:
    out = row(a)
    out.update(version=a.version.number, materials=checklist(a), events=events(a),
               follow_code=a.follow_code if follow_code else None)
    return out


def serve_file(found: MaterialFile, user: AbstractBaseUser | AnonymousUser | None = None
               ) -> FileResponse:
    """A material file the caller was given by services.access: pictures inline, PDFs as a
    download (never rendered in our origin), private caching only; the read is recorded."""
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as e:
        raise Http404("the file is missing") from e
    do_log_file_read(user, object_type="services.application",
                     object_id=found.application_id,
                     what=f"{found.material_key}#{found.round}")
    response = FileResponse(handle, content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    if not found.content_type.startswith("image/"):
        response["Content-Disposition"] = f'attachment; filename="{found.material_key}.pdf"'
    return response
