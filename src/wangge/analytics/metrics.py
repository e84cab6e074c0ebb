"""The evaluation metrics (考核指标), each defined once.

Two kinds:

- **Base counts** (`BASES`): additive numbers, each dated by one moment of one record
  (the day a case was created, the day of a dispatch event …), so the figures of a span
  are the sum of its days. The rollup tables hold one column per base count; the raw
  computation (`analytics.figures.raw_figures`) counts the same rows with GROUP BY. What
  each counts is written in `doc` and in `docs/analytics.md`; the code that counts it is
  `analytics.facts`, one function per source.
- **Metrics** (`METRICS`): what a page shows, a base count itself or a ratio of two
  (rates in per cent, average handling time in working hours). `evaluate(counts)` computes
  them all from one set of base counts; a ratio with a zero denominator is None (shown as
  "—"), never 0 or 100.

The practice followed is the digital-city-management evaluation (CJ/T 292 数字化城市管理
信息系统 绩效评价): a period's figures count what happened in the period, each by its own
date, and attribute it to the grid, category and channel of the case, to the department
the case was dispatched to, and to the grid worker who reported it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: what figures can be broken down by (the `by` of the API)
Dim = Literal["grid", "department", "category", "channel", "worker", "dispute_kind"]
DIMS: tuple[Dim, ...] = ("grid", "department", "category", "channel", "worker", "dispute_kind")
#: the case channels in a fixed order: a channel's key in the rollups is its index here
CHANNELS: tuple[str, ...] = ("grid_worker", "station", "resident", "external", "walk_in")
#: the time buckets of a trend (the `period` of the API)
Bucket = Literal["day", "week", "month", "quarter", "year"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month", "quarter", "year")
#: the grid levels whose subtrees get rollup rows for the breakdowns other than grid and
#: worker (a province and its cities; Liling and its five zones). A breakdown inside a
#: smaller grid reads the records directly: a town's cases are a few thousand a year.
SCOPE_LEVELS: tuple[int, ...] = (0, 1)
#: a rating at or above this level counts as satisfied (非常满意 5, 满意 4, 基本满意 3)
SATISFIED_LEVEL = 3

Counts = Mapping[str, int]


@dataclass(frozen=True)
class Base:
    code: str  # the rollup column
    name: str  # zh-Hans, as the evaluation practice names it
    dims: tuple[Dim, ...]  # which breakdowns it has (fieldwork has no department)
    doc: str  # what is counted, dated by what


CASE_DIMS: tuple[Dim, ...] = ("grid", "department", "category", "channel", "worker")
FIELD_DIMS: tuple[Dim, ...] = ("grid", "worker")
#: screenings (排查) are a basic grid's returns: by grid and by the person who screened
SCREENING_DIMS: tuple[Dim, ...] = ("grid", "worker")
#: disputes found: by grid, by the person who recorded them and by their kind (the 13)
FOUND_DIMS: tuple[Dim, ...] = ("grid", "worker", "dispute_kind")
#: what mediation came to: by the dispute's grid and kind (a mediator is not a grid worker)
MEDIATION_DIMS: tuple[Dim, ...] = ("grid", "dispute_kind")
#: bases computed when read (never stored in the rollups' rows): they depend on today's
#: register or grid tree and on the span, not on records dated in it
COMPUTED_BASES: tuple[str, ...] = ("buildings_total", "screenings_due")

BASES: tuple[Base, ...] = (
    Base("reported", "上报数", CASE_DIMS,
         "cases created in the period (by created_at), confidential ones included"),
    Base("valid", "有效上报数", CASE_DIMS,
         "of those, the ones neither rejected (不予立案) nor merged into another case as a "
         "duplicate (by created_at; a later rejection changes the day's figure, which the "
         "worker's sliding window picks up)"),
    Base("registered", "立案数", CASE_DIMS,
         "cases registered (立案) in the period, by registered_at"),
    Base("dispatched", "派遣数", CASE_DIMS,
         "dispatch events in the period (a case dispatched twice counts twice), attributed "
         "to the department dispatched to"),
    Base("returned", "回退数", CASE_DIMS,
         "return events in the period: a department sending a dispatched case back as not its "
         "own, attributed to that department"),
    Base("handled", "处置数", CASE_DIMS, "handle events in the period (处置完毕 reported)"),
    Base("handled_on_time", "按期处置数", CASE_DIMS,
         "of those, the ones at or before the deadline of the case's handling clock (the clock "
         "whose goal is handled); a case without such a clock, or whose deadline is unknown, "
         "counts as on time"),
    Base("closed", "结案数", CASE_DIMS, "close events in the period (结案 / 销号)"),
    Base("closed_on_time", "按期结案数", CASE_DIMS,
         "of those, the cases whose handling clock never breached its deadline"),
    Base("reworked", "返工数", CASE_DIMS,
         "verify_fail (核查不通过) and reopen (不满意重办) events in the period"),
    Base("overdue", "超期数", CASE_DIMS,
         "handling clocks that breached their deadline in the period (by breached_at)"),
    Base("reply_owed", "应书面答复数", CASE_DIMS, "reply_due events in the period"),
    Base("replied", "已书面答复数", CASE_DIMS, "reply events (书面答复 given) in the period"),
    Base("handling_minutes", "处置用时（工作分钟）", CASE_DIMS,
         "for each handle event in the period, the working minutes (workcal: working days' "
         "office hours) from the latest dispatch, verify_fail or reopen event before it"),
    Base("rated", "评价数", CASE_DIMS, "ratings given in the period (by Rating.created_at)"),
    Base("satisfied", "满意数", CASE_DIMS,
         "of those, level 3 or above (非常满意, 满意, 基本满意)"),
    Base("closed_rated", "已回访结案数", CASE_DIMS,
         "cases closed in the period that have at least one rating (resident, follow-up "
         "call or Open311), by closed_at"),
    Base("visit_people", "走访人次", FIELD_DIMS, "the sum of people_met of visits in the period"),
    Base("patrol_minutes", "巡查时长（分钟）", FIELD_DIMS,
         "the minutes between start and end of patrols started in the period and ended"),
    Base("buildings_covered", "巡查覆盖楼栋数", FIELD_DIMS,
         "distinct buildings passed on patrols in the bucket (not additive: a month's figure "
         "is the month's distinct count; longer spans add up their months)"),
    Base("buildings_total", "楼栋总数", FIELD_DIMS,
         "buildings in the grid (grid dim) or the worker's grid (worker dim), once per bucket "
         "like buildings_covered, so that coverage = covered / total over any span"),
    Base("opinions", "社情民意", FIELD_DIMS, "opinions collected in the period (by collected_at)"),
    Base("proxy_items", "代办件数", FIELD_DIMS,
         "proxy requests delivered in the period (by delivered_at), by their worker"),
    # --- disputes (矛盾纠纷排查调解) ---
    Base("screenings", "排查次数", SCREENING_DIMS,
         "screening returns (矛盾纠纷排查) in the period, nil returns included (by "
         "screened_at), attributed to the return's basic grid and to the person who screened"),
    Base("screenings_nil", "无矛盾纠纷报告数", SCREENING_DIMS,
         "of those, the nil returns (the grid had nothing to report)"),
    Base("screenings_due", "应排查次数", SCREENING_DIMS,
         "computed when read, not stored: for each basic grid in the key's subtree (grid "
         "dim) or where the person is an active grid worker (worker dim), the screening "
         "periods of its rule (disputes.ScreeningRule, the deepest above it: month or week) "
         "that start in the span; a grid under no rule owes none"),
    Base("disputes_found", "发现矛盾纠纷数", FOUND_DIMS,
         "disputes recorded with reported_at (发现时间) in the period, whatever their source "
         "(screening, visit, case, resident, 12345), sensitive ones included; worker: the "
         "org.Person whose login recorded it (0: none)"),
    Base("disputes_high", "高风险矛盾纠纷数", FOUND_DIMS,
         "of those, the ones recorded at high risk"),
    Base("disputes_mediated", "受理调解数", MEDIATION_DIMS,
         "disputes taken up for mediation in the period: each dispute's first accepted "
         "event (a dispute escalated and taken up again by the next level counts once)"),
    Base("agreements", "调解成功数", MEDIATION_DIMS,
         "agreements (调解协议书) made in the period (Agreement.made_at)"),
    Base("referrals", "调解不成移交数", MEDIATION_DIMS,
         "disputes referred when mediation failed (court, arbitration, petition office, a "
         "department) in the period (Referral.referred_at)"),
    Base("mediations_concluded", "调结数", MEDIATION_DIMS,
         "mediations concluded in the period: agreements made plus referrals, each by its "
         "own date; withdrawals are not counted (the parties ended it: neither a success "
         "nor a failure of mediation)"),
    Base("follow_ups", "协议回访数", MEDIATION_DIMS,
         "follow-ups (回访) of agreements in the period (FollowUp.at); a dispute followed up "
         "twice counts twice"),
    Base("honoured", "协议已履行数", MEDIATION_DIMS,
         "of those, the ones that found the agreement honoured (已履行)"),
)
BASE_CODES: tuple[str, ...] = tuple(b.code for b in BASES)
BASE_BY_CODE: dict[str, Base] = {b.code: b for b in BASES}

Unit = Literal["count", "percent", "hours"]


@dataclass(frozen=True)
class Metric:
    code: str
    name: str
    unit: Unit
    numerator: str  # a base code
    denominator: str | None = None  # a base code; None: the numerator itself
    #: for rankings and the composite score: is a larger value better?
    higher_is_better: bool = True
    doc: str = ""

    @property
    def dims(self) -> tuple[Dim, ...]:
        return BASE_BY_CODE[self.numerator].dims

    def value(self, counts: Counts) -> float | int | None:
        top = counts.get(self.numerator, 0)
        if self.denominator is None:
            return top
        bottom = counts.get(self.denominator, 0)
        if not bottom:
            return None
        if self.unit == "hours":  # working minutes per handled case, in hours
            return round(top / bottom / 60, 2)
        return round(100 * top / bottom, 2)


METRICS: tuple[Metric, ...] = (
    Metric("reported", "上报数", "count", "reported"),
    Metric("valid", "有效上报数", "count", "valid"),
    Metric("valid_rate", "有效上报率", "percent", "valid", "reported",
           doc="有效上报数 ÷ 上报数"),
    Metric("registered", "立案数", "count", "registered"),
    Metric("register_rate", "立案率", "percent", "registered", "valid",
           doc="立案数 ÷ 有效上报数"),
    Metric("dispatched", "派遣数", "count", "dispatched"),
    Metric("returned", "回退数", "count", "returned", higher_is_better=False),
    Metric("return_rate", "回退率", "percent", "returned", "dispatched",
           higher_is_better=False, doc="回退数 ÷ 派遣数"),
    Metric("handled", "处置数", "count", "handled"),
    Metric("handled_on_time", "按期处置数", "count", "handled_on_time"),
    Metric("on_time_handle_rate", "按期处置率", "percent", "handled_on_time", "handled",
           doc="按期处置数 ÷ 处置数"),
    Metric("closed", "结案数", "count", "closed"),
    Metric("close_rate", "结案率", "percent", "closed", "registered",
           doc="结案数 ÷ 立案数 (both counted in the period)"),
    Metric("on_time_close_rate", "按期结案率", "percent", "closed_on_time", "closed",
           doc="按期结案数 ÷ 结案数"),
    Metric("reworked", "返工数", "count", "reworked", higher_is_better=False),
    Metric("rework_rate", "返工率", "percent", "reworked", "handled",
           higher_is_better=False, doc="返工数 ÷ 处置数"),
    Metric("overdue", "超期数", "count", "overdue", higher_is_better=False),
    Metric("reply_rate", "回复率", "percent", "replied", "reply_owed",
           doc="已书面答复数 ÷ 应书面答复数"),
    Metric("avg_handling_hours", "平均处置时长（工作小时）", "hours", "handling_minutes",
           "handled", higher_is_better=False, doc="处置用时 ÷ 处置数 ÷ 60"),
    Metric("satisfaction_rate", "满意率", "percent", "satisfied", "rated",
           doc="满意数 ÷ 评价数"),
    Metric("followup_rate", "回访率", "percent", "closed_rated", "closed",
           doc="已回访结案数 ÷ 结案数"),
    Metric("visit_people", "走访人次", "count", "visit_people"),
    Metric("patrol_hours", "巡查时长（小时）", "hours", "patrol_minutes", None),
    Metric("building_coverage", "楼栋覆盖率", "percent", "buildings_covered", "buildings_total",
           doc="巡查覆盖楼栋数 ÷ 楼栋总数"),
    Metric("opinions", "社情民意", "count", "opinions"),
    Metric("proxy_items", "代办件数", "count", "proxy_items"),
    Metric("screenings", "排查次数", "count", "screenings"),
    Metric("screening_rate", "排查率", "percent", "screenings", "screenings_due",
           doc="排查次数 ÷ 应排查次数 (read over whole periods: a month's returns against "
               "the month's due)"),
    Metric("screenings_nil", "无矛盾纠纷报告数", "count", "screenings_nil",
           higher_is_better=False),
    Metric("disputes_found", "发现矛盾纠纷数", "count", "disputes_found"),
    Metric("disputes_high", "高风险矛盾纠纷数", "count", "disputes_high",
           higher_is_better=False),
    Metric("disputes_mediated", "受理调解数", "count", "disputes_mediated"),
    Metric("agreements", "调解成功数", "count", "agreements"),
    Metric("referrals", "调解不成移交数", "count", "referrals", higher_is_better=False),
    Metric("mediation_success_rate", "调解成功率", "percent", "agreements",
           "mediations_concluded", doc="调解成功数 ÷ 调结数 (调解成功数 + 调解不成移交数)"),
    Metric("follow_ups", "协议回访数", "count", "follow_ups"),
    Metric("honour_rate", "协议履行率", "percent", "honoured", "follow_ups",
           doc="协议已履行数 ÷ 协议回访数"),
)
METRIC_BY_CODE: dict[str, Metric] = {m.code: m for m in METRICS}


def metric_value(metric: Metric, counts: Counts) -> float | int | None:
    if metric.unit == "hours" and metric.denominator is None:  # a sum of minutes, in hours
        return round(counts.get(metric.numerator, 0) / 60, 2)
    return metric.value(counts)


def evaluate(counts: Counts, dim: Dim | None = None) -> dict[str, float | int | None]:
    """Every metric (that the breakdown `dim` has) from one set of base counts."""
    return {m.code: metric_value(m, counts) for m in METRICS if dim is None or dim in m.dims}


def add(into: dict[str, int], counts: Counts) -> dict[str, int]:
    """Add base counts into `into` (in place) and return it."""
    for code, n in counts.items():
        if n:
            into[code] = into.get(code, 0) + int(n)
    return into
