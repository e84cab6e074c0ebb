"""The REST API (django-ninja, OpenAPI at /api/v1/docs). Every endpoint needs a bearer
token or a console session; app routers stay thin and call access/actions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from wangge.cases.api import public_router
from wangge.cases.api import router as cases_router
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.integration.auth import API_AUTH, docs_require_auth
from wangge.org.api import router as org_router
from wangge.registry.api import router as registry_router
from wangge.registry.validation import RegistryError
from wangge.territory.actions import GridValidationError
from wangge.territory.api import router as territory_router

api = NinjaAPI(
    title="wangge API",
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


@api.exception_handler(CaseError)
def case_error(request: HttpRequest, exc: CaseError) -> HttpResponse:
    detail = [{"loc": ["body", exc.field], "msg": str(exc)}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IllegalTransition)
def illegal_transition(request: HttpRequest, exc: IllegalTransition) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(RegistryError)
def registry_error(request: HttpRequest, exc: RegistryError) -> HttpResponse:
    detail = [{"loc": ["body", f], "msg": m} for f, m in exc.errors.items()]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(GridValidationError)
def grid_validation_error(request: HttpRequest, exc: GridValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": [
                {"loc": [p.field or "body"], "code": p.code, "msg": p.reason}
                for p in exc.problems
            ]
        },
        status=422,
    )
