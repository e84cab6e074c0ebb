"""/console/open311/keys/: the API keys of Open311 clients and external systems — which
system, label, created, last used, expiry, state; revoke one; create one for a system code
(the secret is shown once, in the answer to the POST, and stored nowhere)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from wangge.integration.access import check_manage_api_keys
from wangge.integration.actions import do_create_token, do_revoke_token
from wangge.integration.tokens import expiry
from wangge.open311 import keys
from wangge.org.actions import RoleError, do_ensure_external_department

#: a system code as the CLI takes it: letters, digits, - and _
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")


def _page(request: HttpRequest, *, errors: dict[str, str] | None = None,
          issued: str = "", status: int = 200) -> HttpResponse:
    response = render(request, "open311/keys.html", {
        "rows": keys.key_rows(), "errors": errors or {}, "issued": issued,
        "given": request.POST if request.method == "POST" else {},
    }, status=status)
    return response


@never_cache
@login_required
@require_GET
def keys_page(request: HttpRequest) -> HttpResponse:
    check_manage_api_keys(request.user)
    return _page(request)


@never_cache  # the answer holds the secret: no cache may keep it
@login_required
@require_POST
def create_key(request: HttpRequest) -> HttpResponse:
    check_manage_api_keys(request.user)
    code = request.POST.get("system", "").strip()
    label = request.POST.get("label", "").strip()
    errors: dict[str, str] = {}
    if not _CODE.match(code):
        errors["system"] = _("系统代码：2–32 位字母、数字、- 或 _")
    if len(label) > 100:
        errors["label"] = _("说明最多 100 个字")
    expires_at = None
    if spec := request.POST.get("expires", "").strip():
        try:
            expires_at = expiry(spec, timezone.now())
            if expires_at <= timezone.now():
                errors["expires"] = _("到期时间须在今天之后")
        except ValueError:
            errors["expires"] = _("到期：写 90d、12h 或 2027-03-31")
    if errors:
        return _page(request, errors=errors, status=400)
    try:
        system = do_ensure_external_department(code, actor=request.user)
        issued = do_create_token(system.service_user, label=label, actor=request.user,
                                 expires_at=expires_at)
    except RoleError as e:
        return _page(request, errors={"system": str(e)}, status=400)
    except ValidationError as e:
        return _page(request, errors={"expires": "; ".join(e.messages)}, status=400)
    return _page(request, issued=issued.secret)


@login_required
@require_POST
def revoke_key(request: HttpRequest, pk: int) -> HttpResponse:
    check_manage_api_keys(request.user)
    token = keys.token(pk)
    if token is None:
        raise Http404("no such key")
    do_revoke_token(token, actor=request.user)
    messages.success(request, _("密钥 %(prefix)s 已吊销。") % {"prefix": token.prefix})
    return redirect("open311_console:keys")
