"""The parameters of the console's figures pages (/console/analytics/ and …/rankings/),
validated here so a bad one is a form error naming the field (a 400 page), never a 500.

Both forms are built for one user's scope (analytics.access.Scope): department staff may ask
for their department's figures only, and a grid outside the scope is answered like an
unknown one ("没有这个网格"), so codes outside it are not confirmed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.analytics.access import Scope
from wangge.analytics.metrics import BUCKETS, DIMS, METRICS, Bucket, Dim
from wangge.territory.models import Grid

DIM_LABELS: dict[str, Any] = {
    "department": _("部门"), "grid": _("网格"), "worker": _("网格员"),
    "category": _("事件分类"), "channel": _("来源渠道"), "dispute_kind": _("矛盾纠纷类别"),
}
BUCKET_LABELS: dict[str, Any] = {
    "day": _("日"), "week": _("周"), "month": _("月"), "quarter": _("季"), "year": _("年"),
}
LEVEL_LABELS: dict[int, Any] = {
    1: _("一级网格"), 2: _("二级网格"), 3: _("三级网格"), 4: _("四级网格"),
}
#: the days a period may name: beyond them a date is a typo
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
#: the longest span one page counts, and the most points a trend draws
MAX_DAYS = 5 * 366
MAX_BUCKETS = 400
#: the rankings' dims (the composite score is defined for these)
RANK_DIMS: tuple[Dim, ...] = ("department", "grid", "worker")
RANK_PERIODS: dict[str, Any] = {"month": _("月"), "quarter": _("季"), "year": _("年")}
DEPARTMENT_ONLY = _("部门人员只能按部门查看本部门的统计。")


def bucket_count(since: dt.date, until: dt.date, bucket: Bucket) -> int:
    """How many buckets of this size the span touches."""
    if bucket == "day":
        return (until - since).days + 1
    if bucket == "week":
        return (until - until.weekday() * dt.timedelta(days=1)
                - (since - since.weekday() * dt.timedelta(days=1))).days // 7 + 1
    months = (until.year - since.year) * 12 + until.month - since.month + 1
    if bucket == "month":
        return months
    if bucket == "quarter":
        return (until.year * 4 + (until.month - 1) // 3) - (
            since.year * 4 + (since.month - 1) // 3) + 1
    return until.year - since.year + 1


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def quarter_start(day: dt.date) -> dt.date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


@dataclass(frozen=True)
class Span:
    key: str
    label: str
    since: dt.date
    until: dt.date


def quick_spans(today: dt.date) -> list[Span]:
    """The quick buttons: 本月, 上月, 本季度, 本年 (up to today)."""
    last_month_end = month_start(today) - dt.timedelta(days=1)
    return [
        Span("this_month", str(_("本月")), month_start(today), today),
        Span("last_month", str(_("上月")), month_start(last_month_end), last_month_end),
        Span("this_quarter", str(_("本季度")), quarter_start(today), today),
        Span("this_year", str(_("本年")), today.replace(month=1, day=1), today),
    ]


def default_bucket(since: dt.date, until: dt.date) -> Bucket:
    """The trend's bucket when none is asked for: up to about 15 points for a span up to
    a quarter, months up to two years, quarters beyond."""
    days = (until - since).days + 1
    if days <= 15:
        return "day"
    return "week" if days <= 92 else "month" if days <= 732 else "quarter"


def grid_choices(scope: Scope, current: Grid | None) -> list[tuple[str, str]]:
    """The grids offered in the 范围 select: the scope's top grids and their children, and
    the current grid with its ancestors (in scope) and children, so that one can drill down
    step by step without a list of every village of a province."""
    if scope.department_only:
        return []
    tops = scope.top_grids()
    grids: dict[int, Grid] = {g.pk: g for g in tops}
    parents = [g.pk for g in tops]
    if current is not None:
        parents.append(current.pk)
        ancestors = Grid.objects.filter(
            path__in=[current.path[:i] for i in range(1, len(current.path) + 1)])
        grids.update({g.pk: g for g in ancestors if scope.covers(g)})
        grids[current.pk] = current
    for child in Grid.objects.filter(parent_id__in=parents).order_by("code")[:500]:
        grids[child.pk] = child
    ordered = sorted(grids.values(), key=lambda g: g.path)
    return [(g.code, "\u3000" * (g.level - ordered[0].level if ordered else 0) + g.name)
            for g in ordered]


class ScopedForm(forms.Form):
    """Shared: the user's scope, the grid (范围) within it, the grid level of a by-grid
    breakdown."""

    grid = forms.CharField(label=_("范围"), required=False, max_length=20)
    level = forms.TypedChoiceField(label=_("网格层级"), required=False, coerce=int,
                                   empty_value=None,
                                   choices=[("", _("下一级")), *LEVEL_LABELS.items()])

    def __init__(self, data: Any, *, scope: Scope, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.scope = scope
        self.grid_obj: Grid | None = None

    def clean_grid(self) -> Grid | None:
        code = (self.cleaned_data.get("grid") or "").strip()
        if not code:
            return None
        if self.scope.department_only:
            raise forms.ValidationError(DEPARTMENT_ONLY, code="department_only")
        grid = Grid.objects.filter(code=code).first()
        if grid is None or not self.scope.covers(grid):
            raise forms.ValidationError(_("没有这个网格：%(code)s"), code="unknown_grid",
                                        params={"code": code})
        self.grid_obj = grid
        return grid

    def check_level(self, by: str | None, grid: Grid | None, level: int | None) -> None:
        if by != "grid" or level is None:
            return
        floor = grid.level if grid is not None else min(
            (g.level for g in self.scope.top_grids()), default=0)
        if level <= floor:
            self.add_error("level", forms.ValidationError(
                _("网格层级须低于所选范围（%(level)s级）"), code="level",
                params={"level": floor}))


class MetricsForm(ScopedForm):
    """/console/analytics/: by, grid, level, from, to, period (the trend's bucket), metric
    (the bar chart's)."""

    by = forms.ChoiceField(label=_("统计口径"), required=False,
                           choices=[(d, DIM_LABELS[d]) for d in DIMS])
    period = forms.ChoiceField(label=_("趋势粒度"), required=False,
                               choices=[("", _("自动")), *((b, BUCKET_LABELS[b]) for b in BUCKETS)])
    metric = forms.ChoiceField(label=_("图表指标"), required=False,
                               choices=[(m.code, m.name) for m in METRICS])

    def __init__(self, data: Any, *, scope: Scope, today: dt.date, **kwargs: Any) -> None:
        super().__init__(data, scope=scope, **kwargs)
        self.today = today
        self.notice: str = ""
        # `from` is a Python keyword: the fields are named as the URL (and the API) name them
        self.fields["from"] = forms.DateField(label=_("开始日期"), required=False)
        self.fields["to"] = forms.DateField(label=_("结束日期"), required=False)
        self.order_fields(["by", "grid", "level", "from", "to", "period", "metric"])

    def clean_by(self) -> Dim:
        by = self.cleaned_data.get("by") or ("department" if self.scope.department_only
                                             else "grid")
        if self.scope.department_only and by != "department":
            raise forms.ValidationError(DEPARTMENT_ONLY, code="department_only")
        return by  # type: ignore[return-value]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        since: dt.date | None = data.get("from")
        until: dt.date | None = data.get("to")
        until = until or self.today
        since = since or month_start(until)
        for name, day in (("from", since), ("to", until)):
            if not EARLIEST <= day <= LATEST:
                self.add_error(name, forms.ValidationError(
                    _("日期须在 %(a)s 至 %(b)s 之间"), code="range",
                    params={"a": EARLIEST, "b": LATEST}))
                return data
        if since > until:
            self.add_error("to", forms.ValidationError(_("结束日期早于开始日期"),
                                                       code="reversed"))
            return data
        if (until - since).days + 1 > MAX_DAYS:
            self.add_error("from", forms.ValidationError(
                _("时段最长 %(n)s 天"), code="too_long", params={"n": MAX_DAYS}))
            return data
        data["from"], data["to"] = since, until
        bucket: Bucket = data.get("period") or default_bucket(since, until)
        if bucket_count(since, until, bucket) > MAX_BUCKETS:
            self.add_error("period", forms.ValidationError(
                _("时段太长，请选择更粗的趋势粒度"), code="too_many_buckets"))
            return data
        data["period"] = bucket
        by: Dim = data["by"]
        # the chart's default: 上报数, or the breakdown's first metric when it has none
        # (by dispute kind: 发现矛盾纠纷数)
        first = next(m for m in METRICS if by in m.dims)
        fallback = "reported" if by in METRICS[0].dims else first.code
        metric = data.get("metric") or fallback
        if by not in next(m for m in METRICS if m.code == metric).dims:
            # the select lists the previous breakdown's metrics: a switch of `by` keeps the
            # chart on 上报数 rather than refusing the page
            name = next(m.name for m in METRICS if m.code == fallback)
            self.notice = _("按%(by)s没有这个指标，图表改为%(metric)s。") % {
                "by": DIM_LABELS[by], "metric": name}
            metric = fallback
        data["metric"] = metric
        self.check_level(by, data.get("grid"), data.get("level"))
        return data


@dataclass(frozen=True)
class RankPeriod:
    key: str  # 2026-05, 2026-Q2, 2026
    label: str
    since: dt.date
    until: dt.date


def rank_periods(kind: str, today: dt.date) -> list[RankPeriod]:
    """The periods a ranking may be asked for, newest first (the running one included):
    24 months, 12 quarters, 6 years."""
    out: list[RankPeriod] = []
    if kind == "month":
        start = month_start(today)
        for _i in range(24):
            out.append(RankPeriod(f"{start:%Y-%m}", f"{start.year}年{start.month}月", start,
                                  month_end(start)))
            start = month_start(start - dt.timedelta(days=1))
    elif kind == "quarter":
        start = quarter_start(today)
        for _i in range(12):
            q = (start.month - 1) // 3 + 1
            end = month_end(start.replace(month=start.month + 2))
            out.append(RankPeriod(f"{start.year}-Q{q}", f"{start.year}年第{q}季度", start, end))
            start = quarter_start(start - dt.timedelta(days=1))
    else:
        for year in range(today.year, today.year - 6, -1):
            out.append(RankPeriod(str(year), f"{year}年", dt.date(year, 1, 1),
                                  dt.date(year, 12, 31)))
    return out


class RankingsForm(ScopedForm):
    """/console/analytics/rankings/: dim, level (grids), grid, period + which, scheme, n."""

    dim = forms.ChoiceField(label=_("考核对象"), required=False,
                            choices=[(d, DIM_LABELS[d]) for d in RANK_DIMS])
    period = forms.ChoiceField(label=_("考核周期"), required=False,
                               choices=list(RANK_PERIODS.items()))
    which = forms.CharField(label=_("期别"), required=False, max_length=10)
    scheme = forms.CharField(label=_("考核方案"), required=False, max_length=32)
    n = forms.IntegerField(label=_("红黑榜人数"), required=False, min_value=1, max_value=50)
    #: the page of the full ranking shown (100,000 basic grids are a download, not a page)
    page = forms.IntegerField(label=_("页码"), required=False, min_value=1,
                              max_value=1_000_000)

    def __init__(self, data: Any, *, scope: Scope, today: dt.date, **kwargs: Any) -> None:
        super().__init__(data, scope=scope, **kwargs)
        self.today = today
        self.order_fields(["dim", "level", "grid", "period", "which", "scheme", "n", "page"])

    def clean_dim(self) -> Dim:
        dim = self.cleaned_data.get("dim") or ("department" if self.scope.department_only
                                               else "grid")
        if self.scope.department_only and dim != "department":
            raise forms.ValidationError(DEPARTMENT_ONLY, code="department_only")
        return dim  # type: ignore[return-value]

    def clean(self) -> dict[str, Any]:
        from wangge.analytics.models import EvaluationScheme

        data = super().clean() or {}
        if self.errors:
            return data
        kind = data.get("period") or "month"
        data["period"] = kind
        periods = rank_periods(kind, self.today)
        which = (data.get("which") or "").strip()
        if not which:  # the last finished period: what a monthly evaluation circulates
            chosen = periods[1]
        else:
            found = [p for p in periods if p.key == which]
            if not found:
                self.add_error("which", forms.ValidationError(
                    _("没有这个考核期：%(which)s"), code="unknown_period",
                    params={"which": which}))
                return data
            chosen = found[0]
        data["which"] = chosen
        code = (data.get("scheme") or "").strip()
        data["scheme"] = None
        if code:
            scheme = EvaluationScheme.objects.filter(code=code, active=True,
                                                     dim=data["dim"]).first()
            if scheme is None:
                self.add_error("scheme", forms.ValidationError(
                    _("没有这个启用的考核方案：%(code)s"), code="unknown_scheme",
                    params={"code": code}))
                return data
            data["scheme"] = scheme
        data["n"] = data.get("n") or 10
        data["page"] = data.get("page") or 1
        self.check_level(data["dim"], data.get("grid"), data.get("level"))
        return data
