"""The REST API (django-ninja, OpenAPI at /api/v1/docs). Every endpoint needs a bearer
token or a console session; app routers stay thin and call access/actions."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

from wangge.analytics.api import router as stats_router
from wangge.analytics.api_analytics import router as analytics_router
from wangge.analytics.api_hotspots import router as hotspots_router
from wangge.cases.api import public_router
from wangge.cases.api import router as cases_router
from wangge.cases.api_map import router as map_router
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.core.crypto import CryptoError
from wangge.core.schema import text_problem
from wangge.disputes.api import router as disputes_router
from wangge.disputes.errors import IllegalMove
from wangge.fieldwork.api import router as fieldwork_router
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.integration.auth import API_AUTH, docs_require_auth
from wangge.org.api import router as org_router
from wangge.registry.api import router as registry_router
from wangge.registry.validation import RegistryError
from wangge.services.api import router as services_router
from wangge.services.errors import IllegalStep, ServiceError
from wangge.territory.actions import GridValidationError
from wangge.territory.api import router as territory_router


class InputRefused(Exception):
    """Input the API refuses before any schema sees it: names where it was found."""

    def __init__(self, status: int, loc: list[str | int], code: str, msg: str):
        self.status, self.loc, self.code, self.msg = status, loc, code, msg
        super().__init__(msg)


def _refuse_constant(name: str) -> float:
    raise InputRefused(422, ["body"], "invalid_number", f"JSON 不允许 {name}")


def _check_tree(value: Any, loc: list[str | int]) -> None:
    """Every string (keys too) storable, every number finite, anywhere in the document."""
    if isinstance(value, str):
        if (problem := text_problem(value)) is not None:
            raise InputRefused(422, loc, *problem)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InputRefused(422, loc, "invalid_number", "数值必须是有限数")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tree(key, loc)
            _check_tree(item, [*loc, key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_tree(item, [*loc, i])


def _check_path(request: HttpRequest) -> None:
    """Path segments too: the schemas of most operations type them, this catches the rest
    (any operation with a body, query or form parameter)."""
    match = getattr(request, "resolver_match", None)
    for name, value in (match.kwargs.items() if match else ()):
        _check_tree(value, ["path", name])


class StrictParser(Parser):
    """JSON only where JSON is expected; no NaN/Infinity, no NUL, no lone surrogate, in the
    body and in query and form fields alike (422 naming the field, never a 500)."""

    def parse_body(self, request: HttpRequest) -> Any:
        _check_path(request)
        kind = (request.content_type or "").lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise InputRefused(415, ["body"], "unsupported_media_type",
                               f"请求体须为 application/json，收到 {kind or '（无）'}")
        try:
            text = request.body.decode("utf-8")
            data = json.loads(text, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputRefused(422, ["body"], "invalid_json", f"不是有效的 JSON：{e}") from e
        _check_tree(data, ["body"])
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str],
                        request: HttpRequest) -> dict[str, Any]:
        _check_path(request)
        source = "form" if data is request.POST else "query"
        for key, values in data.lists():
            _check_tree(key, [source])
            for value in values:
                _check_tree(value, [source, key])
        return super().parse_querydict(data, list_fields, request)


api = NinjaAPI(
    title="wangge API",
    parser=StrictParser(),
    version="1",
    urls_namespace="api",
    auth=API_AUTH,
    docs_url="/docs",
    docs_decorator=docs_require_auth,
)
api.add_router("/grids", territory_router)
api.add_router("", org_router)
api.add_router("/registry", registry_router)
api.add_router("/cases", cases_router)
api.add_router("/public", public_router)
api.add_router("/map", map_router)
api.add_router("/fieldwork", fieldwork_router)
api.add_router("/disputes", disputes_router)
api.add_router("/stats", stats_router)
api.add_router("/analytics", analytics_router)
api.add_router("/analytics/hotspots", hotspots_router)
api.add_router("/services", services_router)


def _refused(request: HttpRequest, exc: InputRefused) -> HttpResponse:
    if exc.status != 422:
        return api.create_response(request, {"detail": exc.msg}, status=exc.status)
    detail = [{"loc": exc.loc, "msg": exc.msg, "code": exc.code}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(InputRefused)
def input_refused(request: HttpRequest, exc: InputRefused) -> HttpResponse:
    return _refused(request, exc)


@api.exception_handler(RawPostDataException)
def form_sent_for_json(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # a form or multipart body was read as such before the JSON body was asked for
    kind = request.content_type or "（无）"
    return api.create_response(
        request, {"detail": f"请求体须为 application/json，收到 {kind}"}, status=415)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps whatever the body parser raised in "400 Cannot parse request body"
    if isinstance(exc.__cause__, InputRefused):
        return _refused(request, exc.__cause__)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _loc(raw: Any) -> list[str | int]:
    loc = [p if isinstance(p, int) else str(p) for p in raw or ()]
    if loc[:2] == ["body", "body"]:  # ninja's source, then our operations' `body` parameter
        del loc[1]
    return loc


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Schema errors in the one shape every 422 has: detail[{loc, msg, code}], the loc
    as the actions' errors give it (["body", field])."""
    detail = [{"loc": _loc(e.get("loc")), "msg": str(e.get("msg", "")),
               "code": str(e.get("type", "invalid"))} for e in exc.errors]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(CaseError)
def case_error(request: HttpRequest, exc: CaseError) -> HttpResponse:
    detail = [{"loc": ["body", exc.field], "msg": str(exc), "code": exc.code}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IllegalTransition)
def illegal_transition(request: HttpRequest, exc: IllegalTransition) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(FieldworkError)
def fieldwork_error(request: HttpRequest, exc: FieldworkError) -> HttpResponse:
    detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.msg, "code": exc.code}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.msg, "code": exc.code}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IllegalStep)
def illegal_step(request: HttpRequest, exc: IllegalStep) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(IllegalMove)
def illegal_move(request: HttpRequest, exc: IllegalMove) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(Conflict)
def edit_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": exc.msg, "current": exc.current},
                               status=409)


@api.exception_handler(RegistryError)
def registry_error(request: HttpRequest, exc: RegistryError) -> HttpResponse:
    detail = [{"loc": ["body", f], "msg": m, "code": "invalid"} for f, m in exc.errors.items()]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ObjectDoesNotExist)
def vanished(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    """A record deleted by a concurrent request between the read and the write's lock."""
    return api.create_response(request, {"detail": "Not Found"}, status=404)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(GridValidationError)
def grid_validation_error(request: HttpRequest, exc: GridValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": [
                {"loc": ["body", *p.field.split(".")] if p.field else ["body"],
                 "code": "invalid", "msg": p.reason}
                for p in exc.problems
            ]
        },
        status=422,
    )


@api.exception_handler(CryptoError)
def crypto_error(request: HttpRequest, exc: CryptoError) -> HttpResponse:
    # the data keys do not open a sealed value: the operator's to fix (`wangge keys status`),
    # not the caller's; the start-up key check normally keeps the server from getting here
    logging.getLogger("wangge.crypto").error("%s %s: %s", request.method, request.path, exc)
    return api.create_response(
        request, {"detail": "数据密钥与数据库不匹配，暂时无法解密；请联系系统管理员"}, status=503)
