"""Filters of the case queues and the department inbox (django-filter), shared by the console
pages and `GET /api/v1/cases/`. They only narrow the queryset they are given — always one
from `access` — so no filter widens what a user sees: a grid outside the user's scope gives an
empty list."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case, CaseCategory
from wangge.cases.urgency import NONE, RED, YELLOW
from wangge.org.access import AnyUser
from wangge.org.models import Department
from wangge.territory import access as territory_access
from wangge.territory.models import Grid

CARDS = [("red", _("红牌")), ("yellow", _("黄牌")), ("any", _("有牌")), ("none", _("无牌"))]
#: grids offered in the grid list (deeper ones are reached by code in the address)
GRID_CHOICE_LEVEL = 2
#: at most this many words in a search
MAX_WORDS = 5


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search", max_length=100,
                                  widget=forms.TextInput(attrs={
                                      "type": "search", "placeholder": _("登记号或关键词")}))
    grid = django_filters.CharFilter(label=_("网格"), method="in_grid", max_length=20,
                                     widget=forms.Select)
    category = django_filters.ModelChoiceFilter(
        label=_("分类"), method="in_category", to_field_name="code",
        queryset=CaseCategory.objects.filter(confidential=False).order_by("code"),
        empty_label=_("全部"))
    department = django_filters.ModelChoiceFilter(
        label=_("承办部门"), field_name="department", to_field_name="code",
        queryset=Department.objects.filter(kind=Department.Kind.DEPARTMENT).order_by("code"),
        empty_label=_("全部"))
    state = django_filters.ChoiceFilter(label=_("状态"), choices=list(STATE_LABELS.items()),
                                        empty_label=_("全部"))
    channel = django_filters.ChoiceFilter(label=_("来源"), choices=Case.Channel.choices,
                                          empty_label=_("全部"))
    card = django_filters.ChoiceFilter(label=_("督办牌"), choices=CARDS, method="with_card",
                                       empty_label=_("全部"))

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, data: Any = None, queryset: QuerySet[Case] | None = None, *,
                 user: AnyUser, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        self.user = user
        grids = list(territory_access.visible_grids(user).filter(level__lte=GRID_CHOICE_LEVEL)
                     .order_by("path").values_list("code", "name", "level"))
        chosen = (data or {}).get("grid") or ""
        if chosen and chosen not in {code for code, _n, _l in grids}:
            grids += list(territory_access.visible_grids(user).filter(code=chosen)
                          .values_list("code", "name", "level"))
        self.form.fields["grid"].widget.choices = [("", _("全部"))] + [
            (code, "\u3000" * level + name) for code, name, level in grids]

    def search(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        """Every word must match the register number, or the title or description of a case
        that is not confidential (a confidential case is found by its number only)."""
        for word in value.split()[:MAX_WORDS]:
            qs = qs.filter(Q(register_no__icontains=word) | Q(
                confidential=False) & (Q(title__icontains=word) | Q(description__icontains=word)))
        return qs

    def in_grid(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        grid = Grid.objects.filter(code=value).only("path").first()
        if grid is None:
            return qs.none()
        return qs.filter(grid__path__startswith=grid.path)

    def in_category(self, qs: QuerySet[Case], name: str, value: CaseCategory) -> QuerySet[Case]:
        """A small class, or a big class with its small classes. Confidential cases are never
        listed by category (their category is not even offered), whoever asks."""
        return qs.filter(Q(category=value) | Q(category__parent=value), confidential=False)

    def with_card(self, qs: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        rank = {"red": [RED], "yellow": [YELLOW], "any": [RED, YELLOW], "none": [NONE]}[value]
        return qs.filter(card__in=rank)

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for each value refused."""
        return [(field, str(msg)) for field, msgs in self.errors.items() for msg in msgs]
