"""Daily rollups: the headline figures per grid above the basic level and per day, so that
a city's or a province's counters read a few hundred small rows instead of millions of
records. Derived data only: `wangge analytics rebuild` recomputes them from the records
(wangge.analytics.rollup), and the worker keeps the last days current."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.territory.models import Grid


class DailyTally(models.Model):
    """The records of one day (Asia/Shanghai) in the subtree of one grid of levels 0–3.
    A basic grid has none: its raw rows are few and already indexed by grid and time."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE,
                             related_name="+")
    day = models.DateField(_("日期"))
    visits = models.PositiveIntegerField(_("走访帮扶人次"), default=0)
    events = models.PositiveIntegerField(_("事件"), default=0)
    opinions = models.PositiveIntegerField(_("社情民意"), default=0)
    leaflets = models.PositiveIntegerField(_("政策宣传资料（份）"), default=0)
    proxy_items = models.PositiveIntegerField(_("代办件数"), default=0)

    class Meta:
        verbose_name = _("每日汇总")
        verbose_name_plural = _("每日汇总")
        # the unique constraint's index (grid, day) is the one every read uses
        constraints = [models.UniqueConstraint(fields=["grid", "day"],
                                               name="dailytally_grid_day")]
        # a window's delete and rebuild select by day alone
        indexes = [models.Index(fields=["day"], name="dailytally_day")]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.day}"


class RollupState(models.Model):
    """One row (pk 1): which days the tallies hold. Every day from `covers_from` (None: from
    the first record on) to `last_day` is rolled up; the readers take other days from the
    records. `territory_stamp` is the grid tree's stamp the tallies were built on: when the
    tree changes, the tallies no longer match its subtrees and are not read until rebuilt."""

    last_day = models.DateField(_("已汇总至"))
    covers_from = models.DateField(_("汇总起始日"), null=True, blank=True)
    territory_stamp = models.CharField(max_length=32, blank=True)
    rolled_at = models.DateTimeField(_("汇总时间"))
    full_rebuilt_at = models.DateTimeField(_("全量重建时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("汇总状态")
        verbose_name_plural = _("汇总状态")

    def __str__(self) -> str:
        return f"{self.covers_from or '…'} – {self.last_day}"


class MetricTally(models.Model):
    """The evaluation's base counts (analytics.metrics.BASES) of one bucket of time for one
    breakdown key, rebuilt from the records by analytics.actions (derived data).

    `period` 'd': a day (Asia/Shanghai), 'm': a calendar month (start = its first day); the
    month rows are the sums of their days (but for the distinct building counts), so a
    year reads 12 rows per key instead of 365.
    `dim` is the breakdown (metrics.DIMS) and `key` its id: a grid, department, category or
    org.Person id, or a channel's index in metrics.CHANNELS; 0 for "none" (a case not yet
    dispatched has department 0, a case reported by no grid worker has worker 0).
    `scope` is the grid whose subtree the row counts: for dim `grid` the keyed grid itself
    (rows for every level 0–4); for `worker` the worker's basic grid of the records; for the
    others each grid of metrics.SCOPE_LEVELS above the records' grid. `level` is the scope's
    level, kept here so a breakdown reads without joining the grids."""

    class Period(models.TextChoices):
        DAY = "d", _("日")
        MONTH = "m", _("月")

    period = models.CharField(max_length=1, choices=Period.choices)
    start = models.DateField(_("起始日"))
    dim = models.CharField(max_length=12)
    key = models.BigIntegerField()
    scope = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    reported = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    registered = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handled_on_time = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    reply_owed = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    handling_minutes = models.BigIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    closed_rated = models.PositiveIntegerField(default=0)
    visit_people = models.PositiveIntegerField(default=0)
    patrol_minutes = models.BigIntegerField(default=0)
    buildings_covered = models.PositiveIntegerField(default=0)
    buildings_total = models.PositiveIntegerField(default=0)
    opinions = models.PositiveIntegerField(default=0)
    proxy_items = models.PositiveIntegerField(default=0)
    # disputes (矛盾纠纷排查调解); screenings_due is computed when read, like buildings_total
    screenings = models.PositiveIntegerField(default=0)
    screenings_nil = models.PositiveIntegerField(default=0)
    screenings_due = models.PositiveIntegerField(default=0)
    disputes_found = models.PositiveIntegerField(default=0)
    disputes_high = models.PositiveIntegerField(default=0)
    disputes_mediated = models.PositiveIntegerField(default=0)
    agreements = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    mediations_concluded = models.PositiveIntegerField(default=0)
    follow_ups = models.PositiveIntegerField(default=0)
    honoured = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("考核指标汇总")
        verbose_name_plural = _("考核指标汇总")
        constraints = [models.UniqueConstraint(
            fields=["period", "start", "dim", "scope", "key"], name="metrictally_unique")]
        indexes = [
            # a breakdown: one dim, the rows of a level (or of one scope) over a span
            models.Index(fields=["dim", "period", "level", "start"], name="metrictally_read"),
            # a window's delete and rebuild select by period and day alone
            models.Index(fields=["period", "start"], name="metrictally_span"),
        ]

    def __str__(self) -> str:
        return f"{self.period}{self.start} {self.dim}:{self.key} @{self.scope_id}"


class EvaluationScheme(models.Model):
    """A composite evaluation score (综合考核得分) as data: for one breakdown (departments,
    grids, grid workers), metrics with weights. Score = Σ weight × the metric's points ÷
    Σ weight of the metrics that have a value; a rate's points are the rate (or 100 − rate
    when lower is better), a count's are its share of the best peer's (×100)."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    dim = models.CharField(_("考核对象"), max_length=12)
    #: [{"metric": code, "weight": number}, …]
    weights = models.JSONField(_("指标权重"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")

    def __str__(self) -> str:
        return self.name


class EvaluationReport(models.Model):
    """The monthly evaluation report (月度考核通报) of one month for one grid's subtree, as
    the worker generated it on the first working day of the next month: the PDF is kept so
    what was circulated can be read again, whatever the rollups say later."""

    month = models.DateField(_("月份"))  # its first day
    grid = models.ForeignKey(Grid, verbose_name=_("范围"), on_delete=models.CASCADE,
                             related_name="+")
    pdf = models.FileField(_("PDF"), upload_to="analytics/reports/")
    generated_at = models.DateTimeField(_("生成时间"))
    #: the figures as printed (rankings per dim), so a later rebuild cannot rewrite history
    figures = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("月度考核通报")
        verbose_name_plural = _("月度考核通报")
        constraints = [models.UniqueConstraint(fields=["month", "grid"],
                                               name="evaluationreport_month_grid")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.grid_id}"
