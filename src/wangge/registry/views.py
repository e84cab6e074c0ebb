"""Registry console pages: search, resident, building and household pages, and forms fit for
a phone (grid worker) and a desk (station staff)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from wangge.registry import access, actions, queries
from wangge.registry.forms import BuildingForm, HouseForm, ResidentForm, SearchForm, UnmaskForm
from wangge.registry.models import Building, Household, Resident
from wangge.registry.validation import RegistryError

PAGE = 50


@login_required
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    rows: list[dict[str, Any]] = []
    page = None
    if form.is_valid():
        qs = queries.search_residents(request.user, **form.cleaned_data)
        page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
        rows = queries.resident_rows(request.user, list(page.object_list))
    if not access.can_see_special_groups(request.user):
        del form.fields["special_group"]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/search.html", {
        "form": form, "rows": rows, "page": page, "query": query.urlencode(),
        "can_edit": access.editable_grids(request.user).exists(),
    })


def _history(user: Any, kind: str, pk: int) -> list[Any]:
    return list(access.visible_history(user).filter(object_type=kind, object_id=pk)
                .select_related("actor")[:100])


@login_required
def resident_page(request: HttpRequest, pk: int) -> HttpResponse:
    resident = access.access_record(request.user, Resident, pk)
    return render(request, "registry/resident.html", {
        "r": queries.resident_rows(request.user, [resident])[0], "resident": resident,
        "history": _history(request.user, "resident", pk),
        "can_unmask": access.can_unmask(request.user, resident),
        "can_edit": access.can_edit(request.user, resident.grid),
        "unmask_form": UnmaskForm(),
    })


@login_required
@require_POST
def unmask(request: HttpRequest, pk: int) -> HttpResponse:
    resident = access.access_record(request.user, Resident, pk)
    form = UnmaskForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            revealed = actions.do_unmask(resident, request.user,
                                         purpose=form.cleaned_data["purpose"])
        except RegistryError as e:
            _errors_to_form(form, e)
    return render(request, "registry/resident.html", {
        "r": queries.resident_rows(request.user, [resident])[0], "resident": resident,
        "history": _history(request.user, "resident", pk), "revealed": revealed,
        "can_unmask": access.can_unmask(request.user, resident),
        "can_edit": access.can_edit(request.user, resident.grid), "unmask_form": form,
    }, status=200 if revealed else 400)


@login_required
def building_page(request: HttpRequest, pk: int) -> HttpResponse:
    building = access.access_record(request.user, Building, pk)
    people = access.visible_residents(request.user).filter(house__building=building)
    people = people.select_related("grid", "house__building").order_by("house__number", "name")
    return render(request, "registry/building.html", {
        "b": building, "houses": building.houses.order_by("number"),
        "rows": queries.resident_rows(request.user, list(people)),
        "history": _history(request.user, "building", pk),
    })


@login_required
def household_page(request: HttpRequest, pk: int) -> HttpResponse:
    household = access.access_record(request.user, Household, pk)
    people = access.visible_residents(request.user).filter(household=household)
    people = people.select_related("grid", "house__building").order_by("relation", "birth_date")
    return render(request, "registry/household.html", {
        "h": household, "rows": queries.resident_rows(request.user, list(people)),
    })


def _errors_to_form(form: forms.Form, error: RegistryError) -> None:
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)


def _create(request: HttpRequest, kind: str, form_class: type[forms.Form],
            title: str, initial: dict[str, Any] | None = None) -> HttpResponse:
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            key = data.pop("client_key", None) or None
            try:
                obj = actions.do_create(kind, data, request.user, client_key=key,
                                        source="console")
            except RegistryError as e:
                _errors_to_form(form, e)
            except PermissionDenied as e:
                form.add_error(None, str(e))
            else:
                target = {"resident": "registry:resident", "building": "registry:building",
                          "house": "registry:building"}[kind]
                return redirect(target, obj.building_id if kind == "house" else obj.pk)
    else:
        # a fresh key per form: a double tap or a resend makes one record, not two
        form = form_class(initial={**(initial or {}), "client_key": uuid.uuid4().hex})
    return render(request, "registry/form.html", {"form": form, "title": title, "kind": kind},
                  status=400 if form.errors else 200)


@login_required
def new_resident(request: HttpRequest) -> HttpResponse:
    return _create(request, "resident", ResidentForm, "新增人口", request.GET.dict())


@login_required
def new_building(request: HttpRequest) -> HttpResponse:
    return _create(request, "building", BuildingForm, "新增楼栋")


@login_required
def new_house(request: HttpRequest) -> HttpResponse:
    return _create(request, "house", HouseForm, "新增房屋", request.GET.dict())


@login_required
def edit_resident(request: HttpRequest, pk: int) -> HttpResponse:
    resident = access.access_record(request.user, Resident, pk)
    if request.method == "POST":
        form = ResidentForm(request.POST)
        form.fields["id_number"].required = False  # blank keeps the number on file
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items()
                    if k != "client_key" and not (k in ("id_number", "phone") and not v)}
            try:
                actions.do_update(resident, data, request.user, source="console")
            except RegistryError as e:
                _errors_to_form(form, e)
            except PermissionDenied as e:
                form.add_error(None, str(e))
            else:
                return redirect("registry:resident", pk)
    else:
        initial = {k: v for k, v in actions.editable_input(resident).items()
                   if k not in ("id_number", "phone")}  # never put plaintext into a page
        form = ResidentForm(initial=initial)
        form.fields["id_number"].required = False
        form.fields["id_number"].help_text = f"{resident.id_number_masked}（留空不改）"
        form.fields["phone"].help_text = f"{resident.phone_masked or '—'}（留空不改）"
    return render(request, "registry/form.html", {"form": form, "title": "修改人口信息",
                                                  "kind": "resident"},
                  status=400 if form.errors else 200)


@login_required
def collection_stats(request: HttpRequest) -> HttpResponse:
    """Records each person created/updated/deleted on a day (采集更新), within scope."""
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    return render(request, "registry/stats.html", {
        "day": day, "rows": queries.collection_counts(request.user, day),
    })
