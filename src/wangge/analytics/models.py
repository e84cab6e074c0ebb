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
