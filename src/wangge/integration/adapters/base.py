"""What the adapters of 12345 and 数字城管 share: the sender of `external.order` (an order to
send) and `external.reply` (our reply to an order they sent), the facts every format
reads off a case, and the status query reconciliation asks (docs/external-systems.md).

A kind's module (`hotline_12345`, `city_management`) supplies its paths, the key of their
number in an answer and its pure format functions; `AdapterSender` does the rest: load the
order, refuse what must never leave (a confidential case, an unmapped category), sign and
POST, then record on the order what happened (`cases.actions.external`). The outcome goes to
the delivery loop like any sender's: 2xx delivered, 408/425/429/5xx/timeouts retried with
backoff, any other 4xx a dead letter with their reason, and the order failed so the
dispatcher sees it, fixes the mapping and resends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from wangge.cases import urgency as case_urgency
from wangge.cases.actions import external as case_external
from wangge.cases.models import Case, CaseClock, CasePhoto, ExternalOrder, ResidentReport
from wangge.cases.public_text import scrub
from wangge.core import audit, crypto
from wangge.core.models import OutboxMessage
from wangge.integration.adapters import attachments, signing
from wangge.integration.models import Adapter, CategoryMapping, Subscription
from wangge.integration.senders import RETRYABLE_4XX, Outcome, _opener, _retry_after
from wangge.registry.identity import mask_name, mask_phone
from wangge.territory.models import Grid

log = logging.getLogger("wangge.outbox")

S = ExternalOrder.State
#: the status query's paths, per adapter kind (reconciliation asks through `query_status`)
STATUS_PATHS = {"hotline_12345": "/work-orders/status", "city_management": "/cases/status"}
#: at most this many numbers per status query
STATUS_BATCH = 500
#: the most of an answer we read (their number, or their error)
ANSWER_MAX_BYTES = 64 * 1024
#: the levels of the grid tree (territory.Level): the community is the statistical area
COMMUNITY_LEVEL, TOWN_LEVEL = 3, 2
CONFIDENTIAL_REASON = "涉密事件不外转"
NOT_THEIRS_REASON = "事件已撤销、已办结或已改派，不再发送"


class Unreachable(Exception):
    """The status query failed: no answer, a non-2xx answer, or one we cannot read."""


# --- the facts every format reads ---------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the Shanghai offset (`2026-11-30T10:12:00+08:00`), or None."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _chain(grid: Grid) -> list[Grid]:
    """The grid and every grid above it, the city first."""
    return list(Grid.objects.filter(path__in=grid.ancestor_paths()).order_by("level"))


def area_code(grid: Grid) -> str:
    """The 12-digit statistical code of the grid's community (the grid's own code above
    that level: a town's or the city's code is 12 digits too)."""
    codes = grid.path.strip("/").split("/")
    return codes[min(COMMUNITY_LEVEL, len(codes) - 1)]


def grid_names(grid: Grid) -> str:
    """`来龙门街道 胜利社区 第3网格`: the town down to the grid, each name without its
    parent's (a basic grid is named 胜利社区第3网格)."""
    names: list[str] = []
    parent_name = ""
    for g in _chain(grid):
        name = g.name
        if parent_name and name.startswith(parent_name) and len(name) > len(parent_name):
            name = name[len(parent_name):]
        if g.level >= TOWN_LEVEL or g.pk == grid.pk:
            names.append(name)
        parent_name = g.name
    return " ".join(names)


def _report(case: Case) -> ResidentReport | None:
    try:
        return case.resident_report
    except ResidentReport.DoesNotExist:
        return None


def address(case: Case) -> str:
    """The building's address when the case names one, else the grid's name path."""
    report = _report(case)
    if report is not None and report.building_id and report.building.address.strip():
        return report.building.address.strip()
    return grid_names(case.grid)


def location(case: Case) -> dict[str, Any] | None:
    if case.lng is None or case.lat is None:
        return None
    return {"lng": case.lng, "lat": case.lat, "crs": "WGS84"}


def urgency_word(case: Case) -> str:
    """特急 with a red card or a clock past its deadline, 紧急 with a yellow card or a clock
    in warning, else 一般 (the queues' urgency, cases.urgency)."""
    row = case_urgency.with_urgency(Case.objects.filter(pk=case.pk)).values(
        "card", "breached", "warned").first() or {}
    if row.get("card") == case_urgency.RED or row.get("breached"):
        return "特急"
    if row.get("card") == case_urgency.YELLOW or row.get("warned"):
        return "紧急"
    return "一般"


def deadline(case: Case) -> dt.datetime | None:
    """The handling clock's deadline (the clock whose goal is `handled`: 办结 / 修复), a
    running one first; else the nearest deadline of any running clock; None when unknown
    (the calendar lacks the year)."""
    clocks = CaseClock.objects.filter(case=case, deadline__isnull=False)
    handling = clocks.filter(goal="handled")
    clock = (handling.filter(status=CaseClock.Status.RUNNING).order_by("deadline").first()
             or handling.order_by("-started_at").first()
             or clocks.filter(status=CaseClock.Status.RUNNING).order_by("deadline").first())
    return clock.deadline if clock else None


@dataclass(frozen=True)
class Contact:
    name: str | None
    phone: str | None
    #: as the reporter gave them (only with the adapter's `pass_phone`)
    unmasked: bool


def contact(case: Case, *, pass_phone: bool) -> Contact:
    """The reporter's contact: a resident's sealed name and phone, or the reporting user's
    name and work phone; masked (张*, 138****1234) unless `pass_phone`; None when there is
    none (an anonymous report, a case an external system sent us)."""
    report = _report(case)
    if report is not None:
        if report.anonymous:
            return Contact(None, None, False)
        if not pass_phone:
            return Contact(report.name_masked or None, report.phone_masked or None, False)
        ring = crypto.keyring()
        name = crypto.open_sealed(report.name_enc, ring) if report.name_enc else None
        phone = crypto.open_sealed(report.phone_enc, ring) if report.phone_enc else None
        return Contact(name, phone, bool(name or phone))
    user = case.reporter
    if user is None or case.channel == Case.Channel.EXTERNAL:
        return Contact(None, None, False)
    person = getattr(user, "person", None)
    name = (person.name if person else "") or user.get_full_name() or ""
    phone = person.work_phone if person else ""
    if not pass_phone:
        name, phone = mask_name(name), mask_phone(phone) if phone else ""
    return Contact(name or None, phone or None, pass_phone and bool(name or phone))


def free_text(text: str, *, pass_phone: bool) -> str:
    """A reporter's own words for the other system: without `pass_phone` the phones, ID
    numbers and e-mail addresses typed into them are masked too (cases.public_text.scrub),
    or the masked contact fields would be for nothing."""
    return text if pass_phone else scrub(text)


def report_attachments(case: Case) -> list[dict[str, Any]]:
    """Signed links to the case's report photos."""
    return attachments.links(case, (CasePhoto.Stage.REPORT,))


def handling_attachments(case: Case) -> list[dict[str, Any]]:
    """Signed links to the photos of our handling and of the on-the-spot verification."""
    return attachments.links(case, (CasePhoto.Stage.HANDLE, CasePhoto.Stage.VERIFY))


def handling_result(case: Case) -> tuple[str, dt.datetime | None]:
    """Our handling result (the last handling feedback, else the close-out reason) and when
    the case was handled (else closed)."""
    event = case.events.filter(action="handle").order_by("-at", "-pk").first()
    result = (event.note if event else "").strip() or case.closeout_reason.strip() or "已办结"
    return result, (event.at if event else case.closed_at)


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    ok: bool
    status_code: int | None = None
    #: the parsed JSON of a 2xx answer (None: not JSON)
    data: Any = None
    #: for a failure: their error message, or the transport's
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def timeout_s(adapter: Adapter) -> float:
    limit = float(settings.WANGGE_WEBHOOK_TIMEOUT_S)
    wanted = adapter.option("timeout_s")
    if isinstance(wanted, int | float) and not isinstance(wanted, bool) and wanted > 0:
        return min(float(wanted), limit)
    return limit


def _their_error(code: int, text: str) -> str:
    """`HTTP 400: category_code: 未知分类` from their `{"error": {"field", "message"}}`."""
    message = text.strip()[:300]
    try:
        error = json.loads(text).get("error")
        if isinstance(error, dict) and error.get("message"):
            field = str(error.get("field") or "")
            message = f"{field}: {error['message']}" if field else str(error["message"])
    except (ValueError, AttributeError):
        pass
    return f"HTTP {code}: {message}".strip()[:500]


def post(adapter: Adapter, secret: str, path: str, document: dict[str, Any], *,
         idempotency_key: str | None = None) -> Answer:
    """POST the document signed (adapters.signing) to the adapter's endpoint + path."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "wangge-adapter/1", **signing.headers(secret, body)}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(adapter.endpoint.rstrip("/") + path, data=body,
                                     method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=timeout_s(adapter)) as r:
            raw = r.read(ANSWER_MAX_BYTES)
            try:
                data = json.loads(raw) if raw.strip() else None
            except ValueError:
                data = None
            return Answer(ok=True, status_code=r.status, data=data)
    except urllib.error.HTTPError as e:  # every answer but 2xx, redirects included
        try:
            text = e.read(4096).decode(errors="replace")
        except OSError:
            text = ""
        finally:
            e.close()
        code = e.code
        return Answer(ok=False, status_code=code, error=_their_error(code, text),
                      permanent=300 <= code < 500 and code not in RETRYABLE_4XX,
                      retry_after=_retry_after(e.headers.get("Retry-After")))
    except (OSError, ValueError) as e:  # refused, reset, DNS, timeout, bad URL
        return Answer(ok=False, error=f"{type(e).__name__}: {e}"[:500])


def query_status(adapter: Adapter, numbers: list[str]) -> dict[str, str]:
    """Their view of these orders (their numbers): number → their status word, "unknown"
    for a number they say they do not know. Asked in batches of STATUS_BATCH; raises
    Unreachable when a batch gets no readable 2xx answer. A number they leave out of both
    lists is left out here."""
    path = STATUS_PATHS.get(adapter.kind)
    if path is None:
        raise Unreachable(f"adapter kind {adapter.kind!r} has no status query")
    try:
        secret = crypto.open_sealed(adapter.secret_enc) if adapter.secret_enc else ""
    except crypto.CryptoError as e:
        raise Unreachable(f"cannot open the adapter's secret: {e}") from e
    if not secret:
        raise Unreachable("the adapter has no secret")
    wanted = list(dict.fromkeys(n for n in numbers if n))
    seen: dict[str, str] = {}
    for start in range(0, len(wanted), STATUS_BATCH):
        batch = wanted[start:start + STATUS_BATCH]
        answer = post(adapter, secret, path, {"numbers": batch})
        if not answer.ok:
            raise Unreachable(answer.error)
        data = answer.data
        if not isinstance(data, dict) or not isinstance(data.get("orders", []), list) \
                or not isinstance(data.get("unknown", []), list):
            raise Unreachable(f"{path}: the answer is not {{\"orders\": […], \"unknown\": […]}}")
        asked = set(batch)
        for row in data.get("orders", []):
            if isinstance(row, dict) and str(row.get("number")) in asked and row.get("status"):
                seen[str(row["number"])] = str(row["status"])
        for number in data.get("unknown", []):
            if str(number) in asked:
                seen[str(number)] = "unknown"
    return seen


# --- the sender ---------------------------------------------------------------------------


class AdapterSender:
    """The sender of one adapter kind (WANGGE_OUTBOX_SENDERS); subclasses set the paths and
    the format functions."""

    #: where orders are posted, appended to the endpoint
    order_path: ClassVar[str]
    #: the key of their number in their answer to an order
    number_key: ClassVar[str]
    #: they send us orders and take our replies (12345)
    takes_replies: ClassVar[bool] = False

    def format_order(self, case: Case, order: ExternalOrder, adapter: Adapter,
                     mapping: CategoryMapping) -> dict[str, Any]:
        raise NotImplementedError

    def format_reply(self, case: Case, order: ExternalOrder,
                     adapter: Adapter) -> dict[str, Any]:
        raise NotImplementedError

    def check_mapping(self, mapping: CategoryMapping) -> str | None:
        """A reason the mapping cannot make an order of this kind, or None."""
        return None

    # -- the delivery loop's side ----------------------------------------------------------

    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        system = subscription.external_system
        adapter = Adapter.objects.filter(system=system).first() if system else None
        if adapter is None:
            return Outcome(ok=False, permanent=True,
                           error=f"subscription {subscription.name} has no adapter")
        order = _order(message)
        if order is None:
            return Outcome(ok=False, permanent=True,
                           error=f"no external order {message.payload.get('order')!r}")
        if message.topic == "external.order":
            return self._send_order(message, adapter, order)
        if message.topic == "external.reply":
            return self._send_reply(message, adapter, order)
        return Outcome(ok=False, permanent=True,
                       error=f"{adapter.kind} does not send {message.topic}")

    def on_dead(self, message: OutboxMessage, subscription: Subscription, error: str) -> None:
        """The delivery died of its attempts (or a permanent error already recorded): an
        order still pending fails, with the reason, for the dispatcher to resend."""
        if message.topic != "external.order":
            return
        order = _order(message)
        if order is not None and order.state == S.PENDING:
            case_external.do_mark_failed(order, f"重试次数已用尽：{error}"[:2000])

    # -- an order ----------------------------------------------------------------------------

    def _send_order(self, message: OutboxMessage, adapter: Adapter,
                    order: ExternalOrder) -> Outcome:
        if order.state not in (S.PENDING, S.FAILED):
            return Outcome(ok=True)  # sent already (a replay after a crash), or over
        if not adapter.enabled:
            return Outcome(ok=False, error="adapter disabled")
        case = order.case
        if not case_external.in_their_hands(order):
            # cancelled, closed or dispatched elsewhere since: nothing to send, ever
            case_external.do_mark_failed(order, NOT_THEIRS_REASON)
            return Outcome(ok=True)
        if case.confidential or case.category.confidential:
            return _failed(order, CONFIDENTIAL_REASON)
        mapping = CategoryMapping.objects.filter(adapter=adapter, category=case.category).first()
        if mapping is None:
            return _failed(order, f"未配置分类映射：{case.category.code} {case.category.name}")
        if (wrong := self.check_mapping(mapping)) is not None:
            return _failed(order, wrong)
        try:
            secret = crypto.open_sealed(adapter.secret_enc)
        except (crypto.CryptoError, TypeError) as e:  # a lost data key: retrying cannot help
            return _failed(order, f"cannot open the adapter's secret: {e}")
        document = self.format_order(case, order, adapter, mapping)
        if document.get("phone") or document.get("appellant"):
            self._log_contact(case, order, adapter)
        answer = post(adapter, secret, self.order_path, document,
                      idempotency_key=message.idempotency_key)
        if not answer.ok:
            if answer.permanent:
                return _failed(order, answer.error, status_code=answer.status_code)
            return Outcome(ok=False, status_code=answer.status_code, error=answer.error,
                           retry_after=answer.retry_after)
        their_no = answer.data.get(self.number_key) if isinstance(answer.data, dict) else None
        if not isinstance(their_no, str | int) or isinstance(their_no, bool) \
                or not str(their_no).strip() or len(str(their_no)) > 40:
            return Outcome(ok=False, status_code=answer.status_code,
                           error=f"HTTP {answer.status_code}: the answer has no "
                                 f"{self.number_key!r} (their number)")
        case_external.do_mark_sent(order, str(their_no).strip())
        return Outcome(ok=True, status_code=answer.status_code)

    def _log_contact(self, case: Case, order: ExternalOrder, adapter: Adapter) -> None:
        """pass_phone: the reporter's own name and phone leave us, logged with the purpose."""
        if not adapter.option("pass_phone", False):
            return
        report = _report(case)
        if report is None:  # a staff member's work contact is no personal data to log
            return
        audit.record("case.contact_passed", actor=None, object_type="case",
                     object_id=case.pk, register_no=case.register_no, system=adapter.system.code,
                     our_no=order.our_no, purpose=f"转办{adapter.system.name}（pass_phone）")

    # -- a reply -----------------------------------------------------------------------------

    def _send_reply(self, message: OutboxMessage, adapter: Adapter,
                    order: ExternalOrder) -> Outcome:
        if order.state == S.REPLIED:
            return Outcome(ok=True)
        if not self.takes_replies:
            return Outcome(ok=False, permanent=True,
                           error=f"{adapter.kind} takes no replies to orders")
        if not order.their_no:
            return Outcome(ok=False, permanent=True, error="the order has no number of theirs")
        if not adapter.enabled:
            return Outcome(ok=False, error="adapter disabled")
        try:
            secret = crypto.open_sealed(adapter.secret_enc)
        except (crypto.CryptoError, TypeError) as e:
            return Outcome(ok=False, permanent=True, error=f"cannot open the adapter's secret: {e}")
        document = self.format_reply(order.case, order, adapter)
        path = f"{self.order_path}/{urllib.parse.quote(order.their_no, safe='')}/reply"
        answer = post(adapter, secret, path, document, idempotency_key=message.idempotency_key)
        if not answer.ok:
            return Outcome(ok=False, permanent=answer.permanent, status_code=answer.status_code,
                           error=answer.error, retry_after=answer.retry_after)
        case_external.do_mark_replied(order)
        return Outcome(ok=True, status_code=answer.status_code)


def _order(message: OutboxMessage) -> ExternalOrder | None:
    pk = message.payload.get("order")
    if not isinstance(pk, int):
        return None
    return ExternalOrder.objects.select_related(
        "case", "case__category", "case__grid", "case__department", "case__reporter",
        "system").filter(pk=pk).first()


def _failed(order: ExternalOrder, reason: str, *, status_code: int | None = None) -> Outcome:
    """A permanent failure: the order fails with the reason, the delivery is a dead letter
    with the same reason."""
    case_external.do_mark_failed(order, reason)
    log.warning("order %s to %s failed: %s", order.our_no, order.system.code, reason)
    return Outcome(ok=False, permanent=True, status_code=status_code, error=reason[:500])
