"""Cases (事件): the event classification list, the department duty list, the case and its
append-only timeline."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.cases.workflow import FINAL
from wangge.org.models import Department
from wangge.registry.models import Building
from wangge.territory.models import Grid


class CaseCategory(models.Model):
    """事件分类清单: big classes and the small classes cases are filed under."""

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("大类"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    sla_policy = models.CharField(_("时限策略"), max_length=32, blank=True)
    confidential = models.BooleanField(_("涉密"), default=False)
    intake_condition = models.TextField(_("立案条件"), blank=True)
    closeout_condition = models.TextField(_("结案条件"), blank=True)

    class Meta:
        verbose_name = _("事件分类")
        verbose_name_plural = _("事件分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DutyRule(models.Model):
    """部门职责清单: category × territory subtree → a department (a line department, or an
    external system: a department of kind `external`). The most specific rule wins (the
    deepest grid, then a small class over its big class)."""

    category = models.ForeignKey(CaseCategory, verbose_name=_("事件分类"),
                                 on_delete=models.CASCADE, related_name="duty_rules")
    grid = models.ForeignKey(Grid, verbose_name=_("适用网格（含下级）"), on_delete=models.CASCADE,
                             related_name="+")
    department = models.ForeignKey(Department, verbose_name=_("责任部门 / 外部系统"),
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("职责规则")
        verbose_name_plural = _("职责规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "grid"], name="duty_rule_once"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.grid} → {self.department}"


class RegisterCounter(models.Model):
    """The last register number issued per year (挂号)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


#: follow codes: no 0/O, 1/I/L, so a code read out on the phone is typed right
FOLLOW_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
FOLLOW_CODE_LENGTH = 8


def new_follow_code() -> str:
    """A random 关注码 (31⁸ ≈ 8.5·10¹¹): with the register number it opens the written reply
    on the public status page, so sequential register numbers don't open every reply."""
    return "".join(secrets.choice(FOLLOW_CODE_ALPHABET) for _ in range(FOLLOW_CODE_LENGTH))


class Case(models.Model):
    class Channel(models.TextChoices):
        GRID_WORKER = "grid_worker", _("网格员上报")
        STATION = "station", _("工作站登记")
        RESIDENT = "resident", _("居民反映")
        EXTERNAL = "external", _("外部系统")
        WALK_IN = "walk_in", _("来访")

    register_no = models.CharField(_("登记号"), max_length=24, unique=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("事件分类"),
                                 on_delete=models.PROTECT, related_name="cases")
    grid = models.ForeignKey(Grid, verbose_name=_("所属网格"), on_delete=models.PROTECT,
                             related_name="+")
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), blank=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报人"), null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("状态"), max_length=16, db_index=True)
    confidential = models.BooleanField(_("涉密"), default=False)
    #: the department handling it; of kind `external`: transferred to that system
    department = models.ForeignKey(Department, verbose_name=_("承办部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    routed_by = models.ForeignKey(DutyRule, verbose_name=_("分流依据"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    duplicate_of = models.ForeignKey("self", verbose_name=_("疑似重复"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    class Level(models.IntegerChoices):
        WORKSTATION = 3, _("工作站")
        SUBCENTER = 2, _("分中心")
        CENTER = 0, _("中心")

    handling_level = models.PositiveSmallIntegerField(
        _("办理层级"), choices=Level.choices, default=Level.WORKSTATION)
    merged_into = models.ForeignKey("self", verbose_name=_("已合并至"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged")
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("关注人"),
                                       blank=True, related_name="+")
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    #: reopened on a resident's dissatisfaction (不满意重办); each one is also a rework
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0, db_default=0)
    closeout_reason = models.CharField(_("销号原因"), max_length=200, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    followup_note = models.TextField(_("回访记录"), blank=True)
    written_reply = models.TextField(_("书面答复"), blank=True)
    follow_code = models.CharField(_("关注码"), max_length=16, default=new_follow_code,
                                   editable=False)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("上报时间"), auto_now_add=True, db_index=True)
    registered_at = models.DateTimeField(_("挂号时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["category", "created_at"]),
                   # the duplicate search at intake: same category, a band of latitude
                   models.Index(fields=["category", "lat"], name="case_duplicate_search"),
                   # open cases by date (Open311 status=open, a few % of a year's cases):
                   # without it a date window's closed cases are all read and dropped
                   # (benchmarks/open311_requests.py: 400 days at 1M cases 550 → 40 ms)
                   models.Index(fields=["created_at"], name="case_open_created",
                                condition=~models.Q(state__in=sorted(s.value for s in FINAL))),
                   # the per-day registered counts (analytics.facts, the rollups)
                   models.Index(fields=["registered_at"], name="case_registered")]

    def __str__(self) -> str:
        return f"{self.register_no} {self.title}"


class CaseEvent(models.Model):
    """The case timeline: append-only, one row per change."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    action = models.CharField(_("动作"), max_length=24)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("事件记录")
        verbose_name_plural = _("事件记录")
        ordering = ["at", "id"]
        # analytics counts one kind of event per day, and the cockpit's ticker reads the
        # latest events: without these both scan the whole timeline (benchmarks/README.md)
        indexes = [models.Index(fields=["action", "at"], name="caseevent_action_at"),
                   models.Index(fields=["at"], name="caseevent_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"


def _photo_path(photo: CasePhoto, filename: str) -> str:
    # never the uploader's file name: it can carry a name or a phone number
    return f"cases/{photo.case_id}/{photo.sha256[:32]}{Path(filename).suffix.lower()}"


class CasePhoto(models.Model):
    """A photo at intake, of the handling (feedback) or of the on-the-spot verification.
    Served only to those who may see the case, never under a public media URL."""

    class Stage(models.TextChoices):
        REPORT = "report", _("上报")
        HANDLE = "handle", _("处置")
        VERIFY = "verify", _("核查")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("环节"), max_length=8, choices=Stage.choices)
    file = models.FileField(_("照片"), upload_to=_photo_path)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事件照片")
        verbose_name_plural = _("事件照片")
        ordering = ["uploaded_at", "id"]
        constraints = [
            # a retried upload of the same picture never makes a second photo
            models.UniqueConstraint(fields=["case", "sha256"], name="case_photo_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.sha256[:8]}"


class Consultation(models.Model):
    """集体会商: a case needing several departments; its decision creates the assignments."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consultations")
    held_on = models.DateField(_("会商日期"))
    participants = models.TextField(_("参会单位及人员"))
    decision = models.TextField(_("会商意见"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("集体会商")
        verbose_name_plural = _("集体会商")

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_on}"


class Assignment(models.Model):
    """问题交办清单: case × department × deadline × required feedback (交办反馈)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, verbose_name=_("承办部门"),
                                   on_delete=models.PROTECT, related_name="assignments")
    consultation = models.ForeignKey(Consultation, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="assignments")
    task = models.CharField(_("交办事项"), max_length=200)
    deadline = models.DateField(_("办结期限"))
    feedback = models.TextField(_("办理反馈"), blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办单")
        verbose_name_plural = _("交办单")
        constraints = [
            # no assignment closes without feedback (交办反馈制), enforced by the database too
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | ~models.Q(feedback=""),
                name="assignment_closes_with_feedback",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}: {self.task}"


class Supervision(models.Model):
    """督办: a supervisor presses a case, with its own deadline; cards escalate."""

    class Level(models.TextChoices):
        NORMAL = "normal", _("一般督办")
        YELLOW = "yellow", _("黄牌督办")
        RED = "red", _("红牌督办")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    level = models.CharField(_("督办等级"), max_length=8, choices=Level.choices)
    reason = models.CharField(_("督办事由"), max_length=200)
    deadline = models.DateField(_("督办期限"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_at = models.DateTimeField(_("督办时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


class InspectionItem(models.Model):
    """日常巡查清单: what a grid worker checks on patrol, per kind of basic grid."""

    grid_kind = models.CharField(_("网格类型"), max_length=16,
                                 choices=[("urban", _("城市网格")), ("rural", _("农村网格"))])
    name = models.CharField(_("巡查事项"), max_length=100)
    guidance = models.TextField(_("巡查要点"), blank=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("发现问题时的事件分类"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("日常巡查事项")
        verbose_name_plural = _("日常巡查清单")
        ordering = ["grid_kind", "order"]

    def __str__(self) -> str:
        return self.name


class CaseClock(models.Model):
    """One SLA clock of a case (办理时限): its policy's definition copied when it starts, so a
    later change to the policy never rewrites the history of cases already running."""

    class Status(models.TextChoices):
        RUNNING = "running", _("计时中")
        PAUSED = "paused", _("暂停")
        MET = "met", _("已达成")
        STOPPED = "stopped", _("已终止")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks")
    policy = models.CharField(_("时限策略"), max_length=32)
    code = models.CharField(_("时钟"), max_length=16)
    name = models.CharField(_("名称"), max_length=50)
    amount = models.FloatField()
    unit = models.CharField(max_length=16)
    goal = models.CharField(max_length=16)
    on_breach = models.CharField(max_length=16, blank=True)
    warn_fraction = models.FloatField(default=0.8)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices,
                              default=Status.RUNNING)
    started_at = models.DateTimeField(_("起算时间"))
    # null while the working-day calendar does not cover the deadline's year: the clock
    # says which year is missing, and the sweep computes it once the year is entered
    deadline = models.DateTimeField(_("期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    calendar_missing = models.PositiveSmallIntegerField(_("缺少日历年份"), null=True,
                                                        blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(_("达成时间"), null=True, blank=True)
    warned_at = models.DateTimeField(_("已预警"), null=True, blank=True)
    breached_at = models.DateTimeField(_("已超时"), null=True, blank=True)

    class Meta:
        verbose_name = _("办理时钟")
        verbose_name_plural = _("办理时钟")
        constraints = [
            models.UniqueConstraint(fields=["case", "code"], name="case_clock_once"),
        ]
        indexes = [
            # the sweep reads only the clocks that are newly due
            models.Index(fields=["deadline"], name="clock_breach_due",
                         condition=models.Q(status="running", breached_at__isnull=True)),
            models.Index(fields=["warn_at"], name="clock_warn_due",
                         condition=models.Q(status="running", warned_at__isnull=True)),
            # normally empty: clocks waiting for a year of the calendar to be entered
            models.Index(fields=["calendar_missing"], name="clock_calendar_missing",
                         condition=models.Q(status="running", calendar_missing__isnull=False)),
            # the late clocks (cases.access.late_clocks: running and past the deadline, OR
            # marked breached and still running), one index per arm of the OR so PostgreSQL
            # ORs two small bitmaps; clock_breach_due leaves out the marked ones, and without
            # these every clock is read (the cockpit's late count: 0.9 s at 2M cases)
            models.Index(fields=["deadline"], name="clock_running_deadline",
                         condition=models.Q(status="running")),
            models.Index(fields=["breached_at"], name="clock_running_breached",
                         condition=models.Q(status="running", breached_at__isnull=False)),
            # the per-day breached counts (analytics.facts); few clocks ever breach
            models.Index(fields=["breached_at"], name="clock_breached",
                         condition=models.Q(breached_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.code} → {self.deadline:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """提醒: a message to one person responsible for a case — its SLA clock warns or
    breaches. The worker makes these from outbox messages (`cases.notify`); the person reads
    them in the console or the app. The case's title is not copied: it is shown through the
    reader's own access at reading time."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("时限预警")
        SLA_BREACH = "sla_breach", _("超时督办")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("提醒内容"), max_length=200)
    # the outbox message's idempotency key: a message delivered again notifies nobody twice
    source = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "user"], name="notification_once"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.case_id}"


# --- the public channels: residents report, follow and rate (issue 14) ------------------


class PublicCategory(models.Model):
    """A resident-facing category (居民可选的问题类型): a small class of the classification
    under a name people understand ("下水道堵了" for 排水设施堵塞). These are the services
    of Open311 (`code` is the service_code); `intake_fields` are a service definition's
    attributes: [{code, datatype (string|number|datetime|text|singlevaluelist|
    multivaluelist), required, description, order, values: [{key, name}]}]."""

    code = models.SlugField(_("服务代码"), max_length=32, unique=True)
    name = models.CharField(_("名称（居民用语）"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    group = models.CharField(_("分组"), max_length=50)
    keywords = models.CharField(_("关键词（逗号分隔）"), max_length=200, blank=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("对应事件小类"),
                                 on_delete=models.PROTECT, related_name="public_categories")
    intake_fields = models.JSONField(_("补充信息项"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)
    #: shown in public lists (Open311 GET): problems of places and things are; a resident's
    #: own trouble (求助, 邻里纠纷, 拖欠工资, 咨询 …) is reported and followed, never listed
    listed = models.BooleanField(_("公开列表中显示"), default=True)

    class Meta:
        verbose_name = _("居民问题类型")
        verbose_name_plural = _("居民问题类型")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def new_report_token() -> str:
    return secrets.token_hex(16)


class ResidentReport(models.Model):
    """What a case reported through a public channel (the QR page, /report/, Open311)
    carries beyond the case: the resident-facing category, the contact (sealed and masked
    as the register keeps a resident's phone, or none: anonymous), where it was reported
    from, the Open311 extras, and the keys that make a retried submission answer the first
    case."""

    class Source(models.TextChoices):
        QR = "qr", _("扫码")
        WEB = "web", _("网页")
        OPEN311 = "open311", _("Open311")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="resident_report")
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    public_category = models.ForeignKey(PublicCategory, verbose_name=_("居民问题类型"),
                                        on_delete=models.PROTECT, related_name="+")
    #: a form token or an Open311 client's key: a retried submission finds its first case
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    #: the Open311 `token` (tokens/{token}): never sequential
    token = models.CharField(max_length=32, unique=True, default=new_report_token,
                             editable=False)
    anonymous = models.BooleanField(_("匿名"), default=True)
    name_enc = models.BinaryField(null=True, blank=True, editable=False)
    name_masked = models.CharField(_("联系人"), max_length=50, blank=True)
    phone_enc = models.BinaryField(null=True, blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    email_enc = models.BinaryField(null=True, blank=True, editable=False)
    email_masked = models.CharField(_("电子邮箱"), max_length=100, blank=True)
    #: Open311 device_id / account_id, as keyed hashes: enough to count and to limit
    device_hash = models.CharField(max_length=64, blank=True)
    account_hash = models.CharField(max_length=64, blank=True)
    #: the sender's address as a keyed hash (abuse review), never the address itself
    client_hash = models.CharField(max_length=64, blank=True)
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    media_url = models.URLField(_("图片链接"), max_length=500, blank=True)
    attributes = models.JSONField(_("补充信息"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("居民反映")
        verbose_name_plural = _("居民反映")

    def __str__(self) -> str:
        return f"{self.case_id} {self.source}"


class Rating(models.Model):
    """满意度评价 in the five levels of the 12345 practice, by the resident (status page,
    Open311) or recorded by a dispatcher from the follow-up call (回访)."""

    class Level(models.IntegerChoices):
        VERY_SATISFIED = 5, _("非常满意")
        SATISFIED = 4, _("满意")
        BASICALLY = 3, _("基本满意")
        UNSATISFIED = 2, _("不满意")
        VERY_UNSATISFIED = 1, _("非常不满意")

    class Via(models.TextChoices):
        RESIDENT = "resident", _("居民评价")
        FOLLOWUP = "followup", _("回访")
        OPEN311 = "open311", _("Open311")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ratings")
    level = models.PositiveSmallIntegerField(_("满意度"), choices=Level.choices)
    comment = models.TextField(_("评价意见"), blank=True)
    via = models.CharField(_("方式"), max_length=8, choices=Via.choices)
    #: the dispatcher who recorded a follow-up call; null for the resident's own rating
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reopened = models.BooleanField(_("已重办"), default=False)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["level", "created_at"]),
                   # the per-day rating counts (analytics.facts) read a day of any level
                   models.Index(fields=["created_at"], name="rating_created")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


class FeedbackRule(models.Model):
    """回访与不满意重办的规则, as data (one row, pk=1): which levels reopen a case, within how
    many days of closing, how often at most, and when a follow-up call is due."""

    reopen_levels = models.JSONField(_("重办的评价等级"), default=list)
    reopen_within_days = models.PositiveSmallIntegerField(_("销号后几天内可重办（自然日）"),
                                                          default=15)
    max_reopens = models.PositiveSmallIntegerField(_("最多重办次数"), default=1)
    followup_after_days = models.PositiveSmallIntegerField(
        _("销号后几个工作日未评价即需回访"), default=2)
    followup_channels = models.JSONField(_("需回访的来源渠道"), default=list)

    class Meta:
        verbose_name = _("回访与重办规则")
        verbose_name_plural = _("回访与重办规则")

    def __str__(self) -> str:
        return f"reopen {self.reopen_levels} ≤{self.reopen_within_days}d ×{self.max_reopens}"


class ExternalOrder(models.Model):
    """转办单: one transfer of a case to an external system (a 12345 工单 or a 数字城管 案卷),
    or one order an external system sent us for on-site work (direction `in`).

    Its state is the other side's view of the order as we last heard it (their call-backs,
    or what reconciliation saw); the case keeps its own state in our loop. Written only by
    `cases.actions.external`; the integration app sends and receives, and calls those."""

    class Direction(models.TextChoices):
        OUT = "out", _("转出")
        IN = "in", _("转入")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        ACCEPTED = "accepted", _("受理")
        DISPATCHED = "dispatched", _("派遣")
        IN_PROGRESS = "in_progress", _("处置中")
        HANDLED = "handled", _("已处置")
        CHECKING = "checking", _("核查")
        CLOSED = "closed", _("结案")
        RETURNED = "returned", _("退回")
        FAILED = "failed", _("发送失败")
        #: an order they sent us: in our loop as a case, then our reply on its way back
        RECEIVED = "received", _("已接收")
        REPLIED = "replied", _("已回复")

    case = models.ForeignKey(Case, verbose_name=_("事件"), on_delete=models.CASCADE,
                             related_name="external_orders")
    system = models.ForeignKey(Department, verbose_name=_("外部系统"), on_delete=models.PROTECT,
                               related_name="+")
    direction = models.CharField(_("方向"), max_length=4, choices=Direction.choices,
                                 default=Direction.OUT)
    #: 工单编号 / 案卷编号 as we number it (the register number; `-2`… on a later transfer)
    our_no = models.CharField(_("我方编号"), max_length=32)
    #: the other side's order number, once they have answered
    their_no = models.CharField(_("对方工单号"), max_length=40, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.PENDING)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    #: the last exchange with the other side (a send, an answer, a call-back)
    exchanged_at = models.DateTimeField(_("最近交互"), null=True, blank=True)
    last_note = models.TextField(_("最近交互说明"), blank=True)
    #: reconciliation: their state as their status query last answered ("unknown": they do
    #: not know the order), and when; differs from `state` → drift shown on the console
    their_state = models.CharField(_("对方状态（对账）"), max_length=16, blank=True)
    checked_at = models.DateTimeField(_("对账时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("转办单")
        verbose_name_plural = _("转办单")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "our_no"], name="external_order_our_no"),
            models.UniqueConstraint(fields=["system", "their_no"], name="external_order_their_no",
                                    condition=~models.Q(their_no="")),
        ]
        indexes = [models.Index(fields=["system", "state"], name="external_order_state")]

    def __str__(self) -> str:
        return f"{self.our_no} → {self.system_id} ({self.state})"
