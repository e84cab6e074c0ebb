"""The outbox console: what is waiting, what died, and a way to send it again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.integration import actions, queries
from wangge.integration.access import check_manage_outbox
from wangge.integration.models import Delivery, Subscription


@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    check_manage_outbox(request.user)
    return render(request, "integration/outbox.html", {
        "o": queries.overview(),
        "dead": queries.dead_letters(),
        "subscriptions": queries.subscriptions(),
        "jobs": queries.job_runs(),
    })


@login_required
@require_POST
def retry_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    check_manage_outbox(request.user)
    delivery = get_object_or_404(Delivery, pk=pk)
    if actions.do_retry_delivery(delivery, actor=request.user):
        messages.success(request, _("投递 %(id)s 已重新排队。") % {"id": pk})
    else:
        messages.error(request, _("投递 %(id)s 不是死信，无需重试。") % {"id": pk})
    return redirect("integration:outbox")


@login_required
@require_POST
def retry_dead(request: HttpRequest) -> HttpResponse:
    check_manage_outbox(request.user)
    subscription = None
    if sub_id := request.POST.get("subscription", "").strip():
        subscription = get_object_or_404(Subscription, pk=int(sub_id) if sub_id.isdigit() else 0)
    count = actions.do_retry_dead(actor=request.user, subscription=subscription)
    messages.success(request, _("%(n)s 条死信已重新排队。") % {"n": count})
    return redirect("integration:outbox")
