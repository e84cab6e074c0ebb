"""The two doors external systems knock on (docs/external-systems.md, "Inbound"):

    POST /integration/systems/<code>/callbacks     a status call-back on an order we sent
    POST /integration/systems/<code>/work-orders   an order for on-site work (12345 → us)

Plain Django views: no session, no CSRF (a signed machine call, never a browser form), POST
only. The system is known by its code (404 otherwise); the body (at most 64 KB, 413) must
carry the adapter's HMAC signature and a fresh timestamp (401), and the adapter must be
enabled (403). Errors answer `{"error": {"field", "message"}}`. Every call that reaches a
known system is logged as an InboundCall, refused ones included."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wangge.integration import inbound_forms as forms
from wangge.integration.actions.external import adapter_secret, do_record_inbound
from wangge.integration.actions.inbound import do_inbound_callback, do_inbound_work_order
from wangge.integration.adapters import signing
from wangge.integration.inbound_forms import InboundRefused
from wangge.integration.models import Adapter, InboundCall

Handler = Callable[[Adapter, bytes, str], JsonResponse]


def error(status: int, field: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "message": message}}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _read_body(request: HttpRequest) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > forms.MAX_BODY_BYTES:
        raise InboundRefused(413, "body", f"at most {forms.MAX_BODY_BYTES} bytes")
    body = request.body
    if len(body) > forms.MAX_BODY_BYTES:
        raise InboundRefused(413, "body", f"at most {forms.MAX_BODY_BYTES} bytes")
    return body


#: how much of an unsigned call's body the exchange log keeps
UNSIGNED_BODY_KEPT = 300


def _serve(request: HttpRequest, code: str, kind: str, handle: Handler) -> JsonResponse:
    adapter = Adapter.objects.select_related("system").filter(system__code=code).first()
    if adapter is None:  # nothing to log it against
        return error(404, "system", f"no external system {code}")
    body = b""
    try:
        body = _read_body(request)
        text = forms.loggable(body)
        try:
            signing.verify(adapter_secret(adapter),
                           request.headers.get(signing.TIMESTAMP_HEADER),
                           request.headers.get(signing.SIGNATURE_HEADER), body)
        except signing.BadSignature as e:
            raise InboundRefused(401, "signature", str(e)) from None
        if not adapter.enabled:
            raise InboundRefused(403, "system", f"the adapter of {code} is disabled")
        return handle(adapter, body, text)
    except InboundRefused as e:
        seen = forms.peek(body)
        do_record_inbound(adapter, kind=kind, outcome=InboundCall.Outcome.REFUSED,
                          http_status=e.status, event_id=seen.get("event_id", "")
                          if kind == InboundCall.Kind.CALLBACK else seen.get("order_no", ""),
                          order_no=seen.get("order_no", ""), status=seen.get("status", ""),
                          reason=f"{e.field}: {e.message}",
                          # an unsigned caller may be anyone: a glimpse, not 4,000 characters
                          body=forms.loggable(body)[:UNSIGNED_BODY_KEPT if e.status == 401
                                                    else None])
        return error(e.status, e.field, e.message)


def _callback(adapter: Adapter, body: bytes, text: str) -> JsonResponse:
    call = forms.parse_callback(forms.parse_json(body))
    result = do_inbound_callback(adapter, call, body=text)
    return JsonResponse({"result": result})


def _work_order(adapter: Adapter, body: bytes, text: str) -> JsonResponse:
    order = forms.parse_work_order(forms.parse_json(body))
    received = do_inbound_work_order(adapter, order, body=text)
    return JsonResponse({"source_no": received.source_no},
                        status=201 if received.created else 200)


@csrf_exempt
@require_POST
def callbacks(request: HttpRequest, code: str) -> JsonResponse:
    return _serve(request, code, InboundCall.Kind.CALLBACK, _callback)


@csrf_exempt
@require_POST
def work_orders(request: HttpRequest, code: str) -> JsonResponse:
    return _serve(request, code, InboundCall.Kind.ORDER, _work_order)
