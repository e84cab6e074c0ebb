"""The grid worker's day: check-in, day plan, patrols, visits, opinions, diary, outreach,
meetings and tasks (including the police's confidential tasks).

The worker is an `org.Person` (most of the 820 workers have no login in the demo; the
login, where there is one, is `person.user`). Every record names the basic grid it belongs
to, which drives scope exactly as the register's `grid` does. What differs from city to
city (start time, rota length, visit kinds and frequencies, opinion topics, materials) is
data in the `*Rule` / catalogue tables below, seeded for the demo.

A record a phone may create offline carries `client_key` through core.idempotency (per
user), never a column here: a replay answers the first record.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import Case
from wangge.org.models import Person
from wangge.registry.models import Building, House, Household, Resident
from wangge.territory.models import Grid

# --- rules and catalogues (configuration as data) ----------------------------------------


class FieldRule(models.Model):
    """The rules of the day for a grid subtree; the deepest rule above a grid applies.

    Where a check-in counts: inside the worker's basic grid, or within `station_radius_m`
    of the workstation (the level-3 grid's department address point is not geocoded, so
    the workstation's point is configured here)."""

    grid = models.OneToOneField(Grid, verbose_name=_("适用网格（含下级）"),
                                on_delete=models.CASCADE, related_name="+")
    start_time = models.TimeField(_("报到时间"))
    grace_minutes = models.PositiveSmallIntegerField(_("迟到宽限（分钟）"), default=0)
    station_lng = models.FloatField(_("工作站经度"), null=True, blank=True)
    station_lat = models.FloatField(_("工作站纬度"), null=True, blank=True)
    station_radius_m = models.PositiveIntegerField(_("工作站报到半径（米）"), default=200)
    in_grid_counts = models.BooleanField(_("在网格内报到有效"), default=True)
    patrol_every_days = models.PositiveSmallIntegerField(
        _("每栋楼巡查周期（天）"), default=7,
        help_text=_("每栋楼至少每 N 天巡查一次，巡查片区按此轮换"))
    register_stale_days = models.PositiveSmallIntegerField(
        _("登记信息更新周期（天）"), default=180)

    class Meta:
        verbose_name = _("网格员工作规则")
        verbose_name_plural = _("网格员工作规则")

    def __str__(self) -> str:
        return f"{self.grid} {self.start_time:%H:%M}"


class VisitKind(models.Model):
    """走访类型: 困难群众帮扶, 特殊人群走访, 入户采集, 矛盾排查, 政策宣传, 代办上门 ..."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("走访类型")
        verbose_name_plural = _("走访类型")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class VisitFrequency(models.Model):
    """How often a member of a special group is visited (`kind` is a
    registry.SpecialGroup.Kind value)."""

    special_group_kind = models.CharField(_("特殊人群类别"), max_length=32, unique=True)
    every_days = models.PositiveSmallIntegerField(_("走访周期（天）"))
    visit_kind = models.ForeignKey(VisitKind, verbose_name=_("走访类型"),
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("走访频次")
        verbose_name_plural = _("走访频次")

    def __str__(self) -> str:
        return f"{self.special_group_kind} / {self.every_days}"


class OpinionTopic(models.Model):
    """社情民意 topic categories."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("社情民意类别")
        verbose_name_plural = _("社情民意类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Material(models.Model):
    """A policy leaflet or other outreach material (宣传资料)."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    topic = models.CharField(_("主题"), max_length=50)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("宣传资料")
        verbose_name_plural = _("宣传资料")
        ordering = ["topic", "code"]

    def __str__(self) -> str:
        return self.name


# --- check-in ------------------------------------------------------------------------


class CheckIn(models.Model):
    """报到: one per worker and day. `place` and `late` are decided when it is recorded,
    from the rule that applied then (a later rule change does not rewrite history)."""

    class Status(models.TextChoices):
        ON_DUTY = "on_duty", _("在岗")
        LEAVE = "leave", _("请假")
        SICK = "sick", _("病假")
        TRAINING = "training", _("培训")

    class Place(models.TextChoices):
        STATION = "station", _("工作站")
        GRID = "grid", _("网格内")
        ELSEWHERE = "elsewhere", _("范围外")
        NONE = "none", _("无定位")

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="checkins")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    day = models.DateField(_("日期"))
    at = models.DateTimeField(_("报到时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices,
                              default=Status.ON_DUTY)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    accuracy_m = models.FloatField(_("定位精度（米）"), null=True, blank=True)
    place = models.CharField(_("报到地点"), max_length=16, choices=Place.choices)
    late = models.BooleanField(_("迟到"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("同步时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报到")
        verbose_name_plural = _("报到")
        constraints = [models.UniqueConstraint(fields=["worker", "day"],
                                               name="one_checkin_per_worker_day")]
        indexes = [models.Index(fields=["day", "grid"])]

    def __str__(self) -> str:
        return f"{self.worker} {self.day}"


# --- day plan ------------------------------------------------------------------------


class PatrolArea(models.Model):
    """A patrol sub-area (片区) of a basic grid: a group of its buildings walked together.
    The rota walks the areas in `order`, so every building is passed every
    `FieldRule.patrol_every_days` days at most."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE,
                             related_name="+")
    name = models.CharField(_("片区名称"), max_length=50)
    order = models.PositiveSmallIntegerField(_("轮换顺序"), default=0)
    buildings = models.ManyToManyField(Building, verbose_name=_("楼栋"), related_name="+")

    class Meta:
        verbose_name = _("巡查片区")
        verbose_name_plural = _("巡查片区")
        ordering = ["grid", "order"]
        constraints = [models.UniqueConstraint(fields=["grid", "name"],
                                               name="patrol_area_name_once")]

    def __str__(self) -> str:
        return f"{self.grid} {self.name}"


class Appointment(models.Model):
    """预约: a time agreed with a resident (information collection, a visit, later proxy
    handling)."""

    class Purpose(models.TextChoices):
        COLLECT = "collect", _("信息采集")
        VISIT = "visit", _("走访")
        PROXY = "proxy", _("代办服务")

    class State(models.TextChoices):
        BOOKED = "booked", _("已预约")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="appointments")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    at = models.DateTimeField(_("预约时间"))
    purpose = models.CharField(_("事由"), max_length=16, choices=Purpose.choices)
    resident = models.ForeignKey(Resident, verbose_name=_("居民"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    house = models.ForeignKey(House, verbose_name=_("房屋"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.BOOKED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        indexes = [models.Index(fields=["worker", "at"])]

    def __str__(self) -> str:
        return f"{self.worker} {self.at:%Y-%m-%d %H:%M}"


class Task(models.Model):
    """A task from the station (collect information at a house, check a hazard) or a
    confidential task from the police. A confidential task and its reports are visible
    only to its worker, police roles and center roles (fieldwork.access)."""

    class Kind(models.TextChoices):
        COLLECT = "collect", _("信息采集")
        HAZARD = "hazard", _("隐患核查")
        OBSERVE = "observe", _("暗访观察")
        FOLLOW_UP = "follow_up", _("跟踪回访")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        OPEN = "open", _("待办")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="tasks")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("任务"), max_length=100)
    detail = models.TextField(_("要求"), blank=True)
    confidential = models.BooleanField(_("涉密"), default=False)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("交办人"),
                                 null=True, on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("完成期限"), null=True, blank=True)
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    house = models.ForeignKey(House, verbose_name=_("房屋"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    meeting = models.ForeignKey("Meeting", verbose_name=_("来自例会"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tasks")
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        indexes = [models.Index(fields=["worker", "state"]),
                   models.Index(fields=["grid", "confidential"])]

    def __str__(self) -> str:
        return self.title


class TaskReport(models.Model):
    """What the worker reports back on a task (several, for an observation)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    at = models.DateTimeField(_("时间"))
    text = models.TextField(_("情况"))

    class Meta:
        verbose_name = _("任务反馈")
        verbose_name_plural = _("任务反馈")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.at:%Y-%m-%d}"


class DayPlan(models.Model):
    """今日安排: built each morning (the worker job, `wangge fieldwork plans`, or on first
    read), editable by workstation staff and the grid chief. `version` changes on every
    edit (a random stamp: the phone's cached copy is stale when it differs)."""

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="plans")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    day = models.DateField(_("日期"))
    version = models.UUIDField(default=uuid.uuid4)
    built_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("今日安排")
        verbose_name_plural = _("今日安排")
        constraints = [models.UniqueConstraint(fields=["worker", "day"],
                                               name="one_plan_per_worker_day")]

    def __str__(self) -> str:
        return f"{self.worker} {self.day}"


class PlanItem(models.Model):
    """One line of a day plan; `kind` says which reference is set."""

    class Kind(models.TextChoices):
        PATROL = "patrol", _("片区巡查")
        APPOINTMENT = "appointment", _("预约上门")
        TASK = "task", _("工作站任务")
        VERIFY = "verify", _("事件核查")
        VISIT_DUE = "visit_due", _("到期走访")
        REGISTER = "register", _("信息更新")
        OTHER = "other", _("其他")

    plan = models.ForeignKey(DayPlan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("事项"), max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    at = models.TimeField(_("时间"), null=True, blank=True)
    patrol_area = models.ForeignKey(PatrolArea, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    appointment = models.ForeignKey(Appointment, null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    household = models.ForeignKey(Household, null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="+")
    done = models.BooleanField(_("已完成"), default=False)

    class Meta:
        verbose_name = _("安排事项")
        verbose_name_plural = _("安排事项")
        ordering = ["plan", "order", "id"]


# --- patrol --------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.title


class Patrol(models.Model):
    """巡查. The track is stored compactly on the row (a full day must stay small): points
    are thinned on arrival (too close to the last kept point, or too inaccurate) and kept
    as an encoded polyline with their times (see fieldwork.track)."""

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="patrols")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    patrol_area = models.ForeignKey(PatrolArea, verbose_name=_("片区"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    track = models.TextField(_("轨迹"), blank=True)
    track_times = models.TextField(_("轨迹时间"), blank=True)
    points = models.PositiveIntegerField(_("轨迹点数"), default=0)
    distance_m = models.PositiveIntegerField(_("里程（米）"), default=0)
    duration_s = models.PositiveIntegerField(_("时长（秒）"), default=0)
    buildings_passed = models.ManyToManyField(Building, verbose_name=_("经过楼栋"),
                                              through="BuildingPass", related_name="+")

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        indexes = [models.Index(fields=["worker", "started_at"]),
                   models.Index(fields=["grid", "started_at"])]

    def __str__(self) -> str:
        return f"{self.worker} {self.started_at:%Y-%m-%d}"


class BuildingPass(models.Model):
    """A building passed on a patrol (the track came within reach of it)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="passes")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(_("经过时间"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patrol", "building"],
                                               name="building_pass_once")]
        indexes = [models.Index(fields=["building", "at"])]

    def __str__(self) -> str:
        return f"{self.patrol_id}/{self.building_id}"


class InspectionCheck(models.Model):
    """One item of the daily inspection list ticked on a patrol: OK, or a problem (which
    may have become a case)."""

    class Result(models.TextChoices):
        OK = "ok", _("正常")
        PROBLEM = "problem", _("有问题")

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="checks")
    item = models.ForeignKey("cases.InspectionItem", verbose_name=_("巡查事项"),
                             on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    case = models.ForeignKey(Case, verbose_name=_("生成事件"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("巡查结果")
        verbose_name_plural = _("巡查结果")
        constraints = [models.UniqueConstraint(fields=["patrol", "item"],
                                               name="inspection_check_once")]


# --- visits, opinions, diary, outreach, meetings -------------------------------------

    def __str__(self) -> str:
        return f"{self.item_id} {self.result}"


class Visit(models.Model):
    """走访: to a household or a person in the register. `people_met` counts 人次."""

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="visits")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    kind = models.ForeignKey(VisitKind, verbose_name=_("走访类型"), on_delete=models.PROTECT,
                             related_name="+")
    visited_at = models.DateTimeField(_("走访时间"))
    household = models.ForeignKey(Household, verbose_name=_("家庭户"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    resident = models.ForeignKey(Resident, verbose_name=_("居民"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    people_met = models.PositiveSmallIntegerField(_("走访人次"), default=1)
    needs = models.TextField(_("发现需求"), blank=True)
    help_given = models.TextField(_("帮扶情况"), blank=True)
    follow_up_on = models.DateField(_("下次跟进"), null=True, blank=True)
    photo_hashes = models.JSONField(_("照片"), default=list, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访")
        verbose_name_plural = _("走访")
        indexes = [models.Index(fields=["grid", "visited_at"]),
                   models.Index(fields=["worker", "visited_at"]),
                   models.Index(fields=["resident", "visited_at"]),
                   # the headline's raw days after the rollup (analytics) and its day runs
                   models.Index(fields=["visited_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.visited_at:%Y-%m-%d}"


class Opinion(models.Model):
    """社情民意: recorded → forwarded up → answered; may become a case."""

    class Source(models.TextChoices):
        RESIDENT = "resident", _("居民反映")
        MEETING = "meeting", _("会议")
        WECHAT = "wechat", _("微信群")
        PATROL = "patrol", _("巡查")
        VISIT = "visit", _("走访")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class Kind(models.TextChoices):
        OPINION = "opinion", _("社情民意")
        QUESTION = "question", _("咨询")

    class State(models.TextChoices):
        RECORDED = "recorded", _("已收集")
        FORWARDED = "forwarded", _("已上报")
        ANSWERED = "answered", _("已答复")

    author = models.ForeignKey(Person, verbose_name=_("收集人"), on_delete=models.PROTECT,
                               related_name="opinions")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    topic = models.ForeignKey(OpinionTopic, verbose_name=_("类别"), on_delete=models.PROTECT,
                              related_name="+")
    content = models.TextField(_("内容"))
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    people_concerned = models.PositiveIntegerField(_("涉及人数"), default=1)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.RECORDED)
    answer = models.TextField(_("答复"), blank=True)
    #: 社情民意 or a resident's question (咨询): both are heard, passed up and answered
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices,
                            db_default=Kind.OPINION)
    #: sent by a resident on the public pages: a number and a follow code to read the answer
    public_no = models.CharField(_("编号"), max_length=24, null=True, blank=True, unique=True)
    # db defaults: the demo and the sync write opinions below the ORM (core.bulk)
    follow_code = models.CharField(_("关注码"), max_length=16, blank=True, db_default="")
    phone_enc = models.BinaryField(null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, db_default="")
    case = models.ForeignKey(Case, verbose_name=_("转为事件"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    collected_at = models.DateTimeField(_("收集时间"))
    forwarded_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("社情民意")
        verbose_name_plural = _("社情民意")
        indexes = [models.Index(fields=["grid", "collected_at"]),
                   models.Index(fields=["topic", "collected_at"]),
                   models.Index(fields=["collected_at"])]  # as Visit.visited_at

    def __str__(self) -> str:
        return self.content[:30]


class DiaryEntry(models.Model):
    """民情日记: the worker's own log. Visible to the worker and their chain (workstation
    staff and grid chief above the grid), nobody else (fieldwork.access)."""

    author = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="diary")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    day = models.DateField(_("日期"))
    text = models.TextField(_("内容"))
    tags = models.JSONField(_("标签"), default=list, blank=True)
    households = models.ManyToManyField(Household, verbose_name=_("相关家庭户"), blank=True,
                                        related_name="+")
    cases = models.ManyToManyField(Case, verbose_name=_("相关事件"), blank=True,
                                   related_name="+")
    opinions = models.ManyToManyField(Opinion, verbose_name=_("相关社情民意"), blank=True,
                                      related_name="+")
    written_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("民情日记")
        verbose_name_plural = _("民情日记")
        ordering = ["-day", "-written_at"]
        indexes = [models.Index(fields=["author", "day"])]

    def __str__(self) -> str:
        return f"{self.author_id} {self.day}"


class Distribution(models.Model):
    """Materials handed out: to a household or at a place."""

    worker = models.ForeignKey(Person, verbose_name=_("网格员"), on_delete=models.PROTECT,
                               related_name="distributions")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    material = models.ForeignKey(Material, verbose_name=_("资料"), on_delete=models.PROTECT,
                                 related_name="distributions")
    count = models.PositiveIntegerField(_("份数"))
    household = models.ForeignKey(Household, verbose_name=_("家庭户"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    place = models.CharField(_("地点"), max_length=100, blank=True)
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("资料发放")
        verbose_name_plural = _("资料发放")
        indexes = [models.Index(fields=["grid", "day"]),
                   models.Index(fields=["day"])]  # as Visit.visited_at

    def __str__(self) -> str:
        return f"{self.material_id} × {self.count}"


class Meeting(models.Model):
    """例会: the weekly meeting with community police and workstation staff, held for a
    village/community (level-3 grid)."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    held_on = models.DateField(_("日期"))
    attendees = models.ManyToManyField(Person, verbose_name=_("参会人员"), related_name="+")
    minutes = models.TextField(_("会议纪要"))
    decisions = models.TextField(_("议定事项"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    cases = models.ManyToManyField(Case, verbose_name=_("形成事件"), blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("例会")
        verbose_name_plural = _("例会")
        ordering = ["-held_on"]
        indexes = [models.Index(fields=["grid", "held_on"])]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.held_on}"


class Upload(models.Model):
    """A photo (or signature) a phone sent ahead of the envelopes that use it, addressed by
    its content hash: sending it twice stores it once, and an envelope refers to it by
    `sha256` (DESIGN: the field app in outline)."""

    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                    related_name="+")
    file = models.FileField(upload_to="fieldwork/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["uploaded_by", "sha256"],
                                               name="upload_once_per_user")]

    def __str__(self) -> str:
        return self.sha256
