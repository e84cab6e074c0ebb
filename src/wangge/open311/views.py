"""GeoReport v2 endpoints under /open311/v2/: parse (fields), read (queries over
cases.access) or write (cases.actions.do_resident_report), render (render). Every answer is
JSON or XML by the path's extension; every refusal is the spec's [{code, description}]."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from wangge.cases.actions import Contact, Extras, Where, do_resident_report
from wangge.cases.actions.resident import replayed_report
from wangge.cases.errors import CaseError
from wangge.cases.public_limits import (
    check_resident_limits,
    client_address,
    count_resident_report,
)
from wangge.integration.auth import BearerToken
from wangge.open311 import fields, queries
from wangge.open311.fields import Shaper
from wangge.open311.queries import Filters
from wangge.open311.render import FORMATS, Open311Error, answer, error

View = Callable[..., HttpResponse]
#: C0 controls but tab, LF and CR (and DEL): not text, and not XML 1.0
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def endpoint(*methods: str) -> Callable[[View], View]:
    """The path's format checked, the method allowed, the jurisdiction (when given) ours,
    and Open311Error turned into the spec's error answer in that format."""

    def wrap(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in FORMATS:
                return error("json", 404, f"format: json or xml, not {fmt[:20]!r}")
            if request.method not in methods:
                return error(fmt, 405, f"method: {', '.join(methods)}",
                             allow=", ".join(methods))
            try:
                data = request.POST if request.method == "POST" else request.GET
            except (RequestDataTooBig, TooManyFieldsSent):
                return error(fmt, 400, "request: the body is too large (photos: send "
                                       "media_url, or fewer and smaller files)")
            except MultiPartParserError:
                return error(fmt, 400, "request: not a readable multipart/form-data body")
            # PostgreSQL refuses a NUL in text, and XML 1.0 cannot carry any C0 control but
            # tab, LF and CR (one stored would make every XML list unreadable): refused
            for name, values in [*data.lists(), *((k, [v]) for k, v in kwargs.items())]:
                if _CONTROL.search(name) or any(_CONTROL.search(v) for v in values):
                    return error(fmt, 400, f"{_CONTROL.sub('', name)[:40]}: a control "
                                           "character (only tab and line breaks are allowed)")
            jurisdiction = data.get("jurisdiction_id", "").strip()
            if jurisdiction and jurisdiction != settings.WANGGE_OPEN311_JURISDICTION:
                return error(fmt, 404, f"jurisdiction_id: this server answers for "
                                       f"{settings.WANGGE_OPEN311_JURISDICTION}")
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as e:
                return error(fmt, e.status, e.description)

        return csrf_exempt(wrapped)  # an API with a key, not a browser form

    return wrap


def _key_user(request: HttpRequest, key: str) -> AbstractBaseUser:
    """The user of a live API token (the integration API's own lookup, which also notes
    when the token was last used); 403 otherwise."""
    user = BearerToken().authenticate(request, key.strip()) if key.strip() else None
    if user is None:
        raise Open311Error(403, "api_key: missing, unknown, revoked or expired")
    return user


def _reads_allowed(request: HttpRequest) -> None:
    if settings.WANGGE_OPEN311_GET_NEEDS_KEY:
        _key_user(request, request.GET.get("api_key", ""))


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    root = base.rsplit("/", 1)[0] + "/"
    body = {
        "changeset": "2026-11-30T00:00:00+08:00",
        "contact": "醴陵市网格化管理服务中心 · 12345",
        "key_service": request.build_absolute_uri(reverse("open311_console:keys")),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": root,
            "changeset": "2026-11-30T00:00:00+08:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return answer(fmt, "discovery", body)


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    _reads_allowed(request)
    return answer(fmt, "services", [fields.service(c) for c in queries.categories()])


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    _reads_allowed(request)
    category = queries.service(code)
    if category is None:
        raise Open311Error(404, f"service_code: no service {code[:40]!r}")
    return answer(fmt, "service_definition", fields.service_definition(category))


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    return _create(request, fmt) if request.method == "POST" else _list(request, fmt)


def _list(request: HttpRequest, fmt: str) -> HttpResponse:
    _reads_allowed(request)
    q = request.GET
    kinds = queries.categories()
    f = Filters(ids=fields.comma_list(q.get("service_request_id"), "service_request_id"))
    if not f.ids:
        f.codes = fields.comma_list(q.get("service_code"), "service_code")
        if unknown := set(f.codes) - {k.code for k in kinds}:
            raise Open311Error(404, f"service_code: no service {', '.join(sorted(unknown))}")
        f.start = fields.parse_when(q.get("start_date"), "start_date")
        f.end = fields.parse_when(q.get("end_date"), "end_date")
        if f.start and f.end and f.start > f.end:
            raise Open311Error(400, "start_date: after end_date")
        if f.start and f.end and f.end - f.start > dt.timedelta(days=fields.DEFAULT_DAYS):
            # the spec: a range "may not span more than 90 days"
            raise Open311Error(400, f"start_date/end_date: at most {fields.DEFAULT_DAYS} "
                                    "days apart")
        f.status = fields.parse_status(q.get("status"))
    shaper = Shaper(kinds)
    rows = [shaper.request(c) for c in queries.requests_page(f, kinds)]
    return answer(fmt, "service_requests", rows)


@endpoint("GET")
def request_one(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    _reads_allowed(request)
    case = queries.request(request_id)
    if case is None:
        raise Open311Error(404, f"service_request_id: no request {request_id[:40]!r}")
    return answer(fmt, "service_requests", [Shaper(queries.categories()).request(case)])


@endpoint("GET")
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    _reads_allowed(request)
    case = queries.by_token(token)
    if case is None:
        raise Open311Error(404, f"token: no request has token {token[:40]!r}")
    return answer(fmt, "service_requests",
                  [{"service_request_id": case.register_no, "token": token}])


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    user = _key_user(request, p.get("api_key", ""))
    code = p.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code: required")
    lat = fields.parse_coordinate(p.get("lat"), "lat")
    lng = fields.parse_coordinate(p.get("long"), "long")
    address = p.get("address_string", "").strip()
    if (lat is None) != (lng is None):
        raise Open311Error(400, "lat/long: give both, or address_string")
    if lat is None and not address:
        raise Open311Error(400, "lat/long/address_string: give a location")
    name = f"{p.get('last_name', '').strip()}{p.get('first_name', '').strip()}"
    contact = Contact(name=name, phone=p.get("phone", ""), email=p.get("email", ""))
    if not (contact.name or contact.phone.strip() or contact.email.strip()):
        contact = None  # anonymous
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 48:
        raise Open311Error(400, "Idempotency-Key: at most 48 characters")
    client_key = f"o311:{user.pk}:{key}" if key else None
    if (earlier := replayed_report(client_key)) is not None:
        # a retry answers its first request before any limit: the client lost the answer
        return answer(fmt, "service_requests", [fields.post_answer(
            earlier, queries.report_token(earlier), queries.promise(earlier))], status=200)
    # a keyed system relays many residents from one address: per phone only
    phone = contact.phone if contact else ""
    decision = check_resident_limits(request, phone, by_address=False)
    if decision.refused:
        raise Open311Error(429, decision.refused)
    photos = [f.read() for f in request.FILES.getlist("media")]
    try:
        made = do_resident_report(
            public_category=code, description=p.get("description", ""),
            where=Where(lng=lng, lat=lat, address=address), source="open311",
            contact=contact, photos=photos, actor=user,
            extras=Extras(attributes=fields.parse_attributes(p),
                          media_url=fields.parse_media_url(p.get("media_url")),
                          device_id=p.get("device_id", "").strip()[:200],
                          account_id=p.get("account_id", "").strip()[:200]),
            # one client's keys never meet another's, nor the report page's form keys
            client_key=client_key,
            client_address=client_address(request))
    except CaseError as e:
        status = 404 if e.field == "public_category" and code else 400
        raise Open311Error(status, f"{fields.open311_field(e.field)}: {e}") from None
    if not made.replayed:
        count_resident_report(request, phone, by_address=False)
    body = [fields.post_answer(made.case, queries.report_token(made.case),
                               queries.promise(made.case))]
    return answer(fmt, "service_requests", body, status=200 if made.replayed else 201)
