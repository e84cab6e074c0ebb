"""The working-day calendar and the SLA policies, stored as data a city edits.

A calendar year is *covered* once its whole official schedule is entered; deadlines that
need a day of an uncovered year raise instead of guessing. Only the days the State Council
names are stored (holidays, including the weekend days inside a holiday period, and make-up
working days); every other day follows the Monday–Friday rule.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.workcal.deadlines import Unit
from wangge.workcal.specs import ClockSpec


class CalendarYear(models.Model):
    class Source(models.TextChoices):
        PACKAGE = "package", _("软件包")
        IMPORT = "import", _("文件导入")
        MANUAL = "manual", _("手工录入")

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    covered = models.BooleanField(
        _("已完整录入"), default=False,
        help_text=_("本年度放假安排已完整录入，可用于计算工作日时限"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        MAKEUP = "makeup", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("上班"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=50)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]
        constraints = [
            # kind is redundant with is_workday, kept for reading; the two must agree
            models.CheckConstraint(
                condition=models.Q(is_workday=True, kind="makeup")
                | models.Q(is_workday=False, kind="holiday"),
                name="calendar_day_kind_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarState(models.Model):
    """One row: the stamp every calendar write changes, so that every process rebuilds its
    WorkCalendar (see wangge.territory.models.TerritoryState for why a random stamp)."""

    version = models.PositiveBigIntegerField(default=0)
    stamp = models.CharField(max_length=32, default="")
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")

    def __str__(self) -> str:
        return f"v{self.version}"


class SlaPolicy(models.Model):
    """A set of clocks, attached to case categories by code (CaseCategory.sla_policy).

    Not versioned: a clock's definition is copied onto a case when the clock starts
    (SlaClock.spec()), so editing a policy changes new clocks only."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StartsOn(models.TextChoices):
    REGISTER = "register", _("登记（挂号）起算")
    DISPATCH = "dispatch", _("派遣起算")


class Goal(models.TextChoices):
    """What stops a clock as met: the case reaching this state of the loop (or a later
    one). The names are the case states of wangge.cases.workflow."""

    ACCEPTED = "accepted", _("部门签收")
    IN_PROGRESS = "in_progress", _("到场处置")
    HANDLED = "handled", _("处置完毕")
    CLOSED = "closed", _("结案")


class OnBreach(models.TextChoices):
    OVERDUE = "overdue", _("记为超时")
    REPLY_DUE = "reply_due", _("转为须书面答复")


class SlaClock(models.Model):
    policy = models.ForeignKey(SlaPolicy, verbose_name=_("时限策略"), on_delete=models.CASCADE,
                               related_name="clocks")
    code = models.SlugField(_("编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    amount = models.DecimalField(_("时限"), max_digits=7, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=16, choices=[
        (Unit.WORKING_DAYS.value, _("工作日")), (Unit.HOURS.value, _("小时")),
        (Unit.NATURAL_DAYS.value, _("自然日")), (Unit.WORKING_HOURS.value, _("工作小时"))])
    starts_on = models.CharField(_("起算"), max_length=16, choices=StartsOn.choices)
    goal = models.CharField(_("达成条件"), max_length=16, choices=Goal.choices)
    warn_fraction = models.DecimalField(_("预警比例"), max_digits=3, decimal_places=2,
                                        default=0.8, help_text=_("已用时限达到该比例时预警"))
    on_breach = models.CharField(_("超时后"), max_length=16, choices=OnBreach.choices,
                                 default=OnBreach.OVERDUE)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        ordering = ["policy", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="sla_clock_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="sla_clock_positive"),
            models.CheckConstraint(condition=models.Q(warn_fraction__gt=0, warn_fraction__lt=1),
                                   name="sla_clock_warn_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.amount.normalize()} {self.get_unit_display()}"

    def clean(self) -> None:
        day_units = (Unit.WORKING_DAYS, Unit.NATURAL_DAYS)
        if self.amount is not None and self.unit in day_units and self.amount % 1:
            raise ValidationError({"amount": _("天数须为整数")})

    def spec(self) -> ClockSpec:
        """The frozen definition a case keeps when this clock starts on it."""
        return ClockSpec(
            code=self.code, name=self.name, amount=float(self.amount), unit=self.unit,
            starts_on=self.starts_on, goal=self.goal, warn_fraction=float(self.warn_fraction),
            on_breach=self.on_breach,
        )
