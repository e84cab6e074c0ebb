"""Disputes (矛盾纠纷): periodic screening per grid, the dispute record with its parties,
mediation level by level, the agreement with the parties' signatures, referral when
mediation fails, and the follow-up of an agreement.

Its own app rather than a part of `cases`: a case is routed work with a department's
clocks; a dispute is a relationship between parties that a mediator settles over several
sessions, may be escalated between mediating bodies (not departments), ends in an agreement
or a referral, and must be followed up. It links to a case, a visit or an opinion, and a
referral to a line department opens a case, but its states, scope (sensitive kinds) and
sealed parties are its own.

What differs from city to city is data: the 13 kinds (`DisputeKind`), how often a grid
screens (`ScreeningRule`), the working days each stage may take (`StageClock`).

Parties' personal data follows the register's rule (DESIGN, cross-cutting rules): a party
in the register points at the `Resident` (their data stays there); an outsider's phone and
ID number are sealed (`*_enc`), hashed (`*_hash`) and masked (`*_masked`); names are shown
masked in every list and export and whole only on the record's own page to those in scope.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import Case
from wangge.fieldwork.models import Opinion, Upload, Visit
from wangge.org.models import Department, Person
from wangge.registry.models import Resident
from wangge.territory.models import Grid

# --- configuration as data -----------------------------------------------------------------


class DisputeKind(models.Model):
    """One of the 13 kinds of conflict that may affect social stability (婚姻家庭、邻里、
    劳资、征地拆迁、房地产开发及物业、环境保护 …). `sensitive`: a dispute of this kind is
    narrowed to its recorder, its mediators and the center's admins (family violence)."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    sensitive = models.BooleanField(_("敏感类别"), default=False)
    #: money is usually at stake (劳资、合同债务 …): the form asks for the amount
    money = models.BooleanField(_("涉及金额"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    #: the small class of the cases' classification (事件分类清单) a referral to a line
    #: department is filed under (e.g. 1301 劳资纠纷); empty: the cases' "其他纠纷"
    case_category = models.CharField(_("对应事件分类"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("矛盾纠纷类别")
        verbose_name_plural = _("矛盾纠纷类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class ScreeningRule(models.Model):
    """How often the grids under `grid` screen (the deepest rule above a basic grid
    applies): every month, or every week for a grid under watch."""

    class Period(models.TextChoices):
        MONTH = "month", _("每月")
        WEEK = "week", _("每周")

    grid = models.OneToOneField(Grid, verbose_name=_("适用网格（含下级）"),
                                on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("排查周期"), max_length=8, choices=Period.choices,
                              default=Period.MONTH)

    class Meta:
        verbose_name = _("排查周期规则")
        verbose_name_plural = _("排查周期规则")

    def __str__(self) -> str:
        return f"{self.grid} {self.period}"


class StageClock(models.Model):
    """Working days a stage of a dispute may take (data, per city), e.g. mediation within
    30 days of acceptance, the follow-up within 10 of the agreement. A stage's clock starts
    when the stage starts; the worker's sweep warns at `warn_fraction` of it and marks it
    late at the deadline."""

    class Stage(models.TextChoices):
        ACCEPT = "accept", _("受理")          # registered → a mediator takes it up
        MEDIATE = "mediate", _("调解")        # mediating → agreement / referral / withdrawn
        FOLLOW_UP = "follow_up", _("回访")    # agreed → followed up

    stage = models.CharField(_("环节"), max_length=16, choices=Stage.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    warn_fraction = models.FloatField(_("预警比例"), default=0.8)

    class Meta:
        verbose_name = _("纠纷环节时限")
        verbose_name_plural = _("纠纷环节时限")

    def __str__(self) -> str:
        return f"{self.stage}: {self.working_days}"


# --- screening -----------------------------------------------------------------------------


class Screening(models.Model):
    """矛盾纠纷排查: one basic grid's return for one period. The tensions found are the
    disputes that point at it (`Dispute.screening`); a grid with nothing to report files a
    nil return (`nil=True`, no disputes). One return per grid and period."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    period = models.CharField(_("排查周期"), max_length=8,
                              choices=ScreeningRule.Period.choices)
    #: the period's first day (a month's 1st, a week's Monday), Asia/Shanghai
    period_start = models.DateField(_("周期开始"))
    screened_at = models.DateTimeField(_("排查时间"))
    screened_by = models.ForeignKey(Person, verbose_name=_("排查人"),
                                    on_delete=models.PROTECT, related_name="+")
    #: the mediator who screened with the worker, if any
    mediator = models.ForeignKey(Person, verbose_name=_("调解员"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    nil = models.BooleanField(_("无矛盾纠纷"), default=False)
    note = models.TextField(_("说明"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("矛盾纠纷排查")
        verbose_name_plural = _("矛盾纠纷排查")
        constraints = [models.UniqueConstraint(fields=["grid", "period_start"],
                                               name="screening_once_per_period")]
        indexes = [models.Index(fields=["period_start", "grid"]),
                   models.Index(fields=["screened_at"])]

    def __str__(self) -> str:
        return f"{self.grid} {self.period_start}"


# --- the dispute ---------------------------------------------------------------------------


class Risk(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class Level(models.TextChoices):
    """Where the dispute is mediated, bottom up (逐级): the grid's mediator, the
    workstation (village / community 人民调解委员会), the town (司法所 / 人调委), the city."""

    GRID = "grid", _("网格调解员")
    WORKSTATION = "workstation", _("村（社区）调委会")
    TOWN = "town", _("乡镇（街道）司法所/调委会")
    CITY = "city", _("市级")


#: the grid level (territory) that mediates at each Level, and the order of escalation
LEVEL_GRID_DEPTH = {Level.GRID: 4, Level.WORKSTATION: 3, Level.TOWN: 2, Level.CITY: 0}
LEVEL_ORDER = [Level.GRID, Level.WORKSTATION, Level.TOWN, Level.CITY]


class Dispute(models.Model):
    class Source(models.TextChoices):
        SCREENING = "screening", _("排查")
        VISIT = "visit", _("走访")
        CASE = "case", _("事件")
        RESIDENT = "resident", _("群众反映")
        HOTLINE_12345 = "hotline_12345", _("12345热线")
        OPINION = "opinion", _("社情民意")

    class State(models.TextChoices):
        REGISTERED = "registered", _("已登记")     # waiting for a mediator to take it up
        MEDIATING = "mediating", _("调解中")
        AGREED = "agreed", _("已达成协议")          # waiting for the follow-up
        REFERRED = "referred", _("调解不成，已移交")
        WITHDRAWN = "withdrawn", _("已撤回")
        CLOSED = "closed", _("已回访办结")          # followed up: honoured

    number = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.ForeignKey(DisputeKind, verbose_name=_("类别"), on_delete=models.PROTECT,
                             related_name="+")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    subject = models.CharField(_("争议事项"), max_length=200)
    account = models.TextField(_("基本情况"), blank=True)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2,
                                 null=True, blank=True)
    risk = models.CharField(_("风险等级"), max_length=8, choices=Risk.choices)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    sensitive = models.BooleanField(_("敏感"), default=False)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.REGISTERED)
    # links (any may be empty)
    screening = models.ForeignKey(Screening, verbose_name=_("排查"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="disputes")
    case = models.ForeignKey(Case, verbose_name=_("事件"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    visit = models.ForeignKey(Visit, verbose_name=_("走访"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    opinion = models.ForeignKey(Opinion, verbose_name=_("社情民意"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    # who mediates now
    level = models.CharField(_("调解层级"), max_length=16, choices=Level.choices,
                             default=Level.GRID)
    #: the grid whose body mediates now: the dispute's grid or its ancestor at `level`
    handling_grid = models.ForeignKey(Grid, verbose_name=_("承办网格"),
                                      on_delete=models.PROTECT, related_name="+")
    mediator = models.ForeignKey(Person, verbose_name=_("调解员"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # the running stage clock (StageClock); none once the dispute is settled
    stage = models.CharField(_("当前环节"), max_length=16, choices=StageClock.Stage.choices,
                             blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("环节时限"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(_("超期时间"), null=True, blank=True)
    # outcome
    reported_at = models.DateTimeField(_("发现时间"))
    settled_at = models.DateTimeField(_("调结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    #: an offline edit's base_version
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        indexes = [
            models.Index(fields=["grid", "state"]),
            models.Index(fields=["state", "risk"]),
            models.Index(fields=["mediator", "state"]),
            models.Index(fields=["reported_at"]),
            models.Index(fields=["settled_at"]),
            models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False),
                         name="dispute_running_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class Assignment(models.Model):
    """Who was given the dispute to mediate, at which level, from when to when. Every
    mediator ever assigned keeps seeing the dispute (they hold its history)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="assignments")
    mediator = models.ForeignKey(Person, verbose_name=_("调解员"), on_delete=models.PROTECT,
                                 related_name="+")
    level = models.CharField(_("调解层级"), max_length=16, choices=Level.choices)
    handling_grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("调解指派")
        verbose_name_plural = _("调解指派")
        indexes = [models.Index(fields=["mediator", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.level} {self.mediator_id}"


class Party(models.Model):
    """当事人: a person in the register (their data stays there), a named outsider (contact
    data sealed) or an organisation (an employer, a developer, a property company)."""

    class Role(models.TextChoices):
        APPLICANT = "applicant", _("申请人")
        RESPONDENT = "respondent", _("被申请人")
        OTHER = "other", _("其他当事人")

    class Kind(models.TextChoices):
        PERSON = "person", _("个人")
        ORGANISATION = "organisation", _("单位")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("身份"), max_length=16, choices=Role.choices)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices,
                            default=Kind.PERSON)
    #: a resident leaving the register (moved away, deceased) leaves the party with the
    #: name copied below: a dispute's record outlives the register's row
    resident = models.ForeignKey(Resident, verbose_name=_("登记居民"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    #: an outsider's or an organisation's name; for a resident, copied from the register
    name = models.CharField(_("姓名/名称"), max_length=100)
    name_masked = models.CharField(_("姓名/名称"), max_length=100)
    phone_enc = models.BinaryField(null=True, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    id_number_enc = models.BinaryField(null=True, blank=True)
    id_number_hash = models.CharField(max_length=32, blank=True)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["dispute", "order", "pk"]
        indexes = [models.Index(fields=["resident"]),
                   models.Index(fields=["phone_hash"], name="party_phone_hash_idx")]

    def __str__(self) -> str:
        return self.name_masked


class Session(models.Model):
    """一次调解: when, where, who attended, what was said."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("地点"), max_length=200)
    level = models.CharField(_("调解层级"), max_length=16, choices=Level.choices)
    mediator = models.ForeignKey(Person, verbose_name=_("调解员"), on_delete=models.PROTECT,
                                 related_name="+")
    attendees = models.TextField(_("参加人员"))
    notes = models.TextField(_("调解情况"))
    photo_hashes = models.JSONField(_("照片"), default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["dispute", "held_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.held_at:%Y-%m-%d}"


class Agreement(models.Model):
    """调解协议书: its text is generated from the record (parties, subject, terms) and kept
    as signed; `signed` once every party has signed (on a phone or a scanned page)."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE,
                                   related_name="agreement")
    number = models.CharField(_("协议编号"), max_length=24, unique=True)
    terms = models.TextField(_("协议内容"))
    #: by when the terms must be carried out (e.g. the wages paid), if a date is agreed
    perform_by = models.DateField(_("履行期限"), null=True, blank=True)
    made_at = models.DateTimeField(_("达成时间"))
    mediator = models.ForeignKey(Person, verbose_name=_("调解员"), on_delete=models.PROTECT,
                                 related_name="+")
    signed_at = models.DateTimeField(_("签署完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解协议书")
        verbose_name_plural = _("调解协议书")

    def __str__(self) -> str:
        return self.number


class Signature(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", _("手机签名")
        SCAN = "scan", _("扫描件")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE,
                                  related_name="signatures")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey(Upload, verbose_name=_("签名"), on_delete=models.PROTECT,
                              related_name="+")
    method = models.CharField(_("方式"), max_length=8, choices=Method.choices)
    signed_at = models.DateTimeField(_("签名时间"))

    class Meta:
        verbose_name = _("当事人签名")
        verbose_name_plural = _("当事人签名")
        constraints = [models.UniqueConstraint(fields=["agreement", "party"],
                                               name="signature_once_per_party")]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.party_id}"


class Referral(models.Model):
    """调解不成: handed to the body that can decide it, and why."""

    class Body(models.TextChoices):
        COURT = "court", _("人民法院")
        ARBITRATION = "arbitration", _("劳动人事争议仲裁委员会")
        PETITION = "petition", _("信访部门")
        DEPARTMENT = "department", _("职能部门")

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE,
                                   related_name="referral")
    body = models.CharField(_("移交至"), max_length=16, choices=Body.choices)
    department = models.ForeignKey(Department, verbose_name=_("部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("移交原因"))
    #: the case opened for a department referral (routed like any case)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    referred_at = models.DateTimeField(_("移交时间"))
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("移交")
        verbose_name_plural = _("移交")

    def __str__(self) -> str:
        return f"{self.dispute_id} → {self.body}"


class FollowUp(models.Model):
    """回访 after an agreement: is it being honoured?"""

    class Honoured(models.TextChoices):
        YES = "yes", _("已履行")
        PARTLY = "partly", _("部分履行")
        NO = "no", _("未履行")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField(_("回访时间"))
    by = models.ForeignKey(Person, verbose_name=_("回访人"), on_delete=models.PROTECT,
                           related_name="+")
    honoured = models.CharField(_("履行情况"), max_length=8, choices=Honoured.choices)
    note = models.TextField(_("回访情况"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["dispute", "at", "pk"]
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.honoured}"


class Event(models.Model):
    """The dispute's timeline, append-only: every change, who, when, what, why."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("登记")
        ACCEPTED = "accepted", _("受理")
        ASSIGNED = "assigned", _("指派调解员")
        ESCALATED = "escalated", _("逐级上报")
        SESSION = "session", _("调解")
        AGREED = "agreed", _("达成协议")
        SIGNED = "signed", _("签名")
        REFERRED = "referred", _("移交")
        WITHDRAWN = "withdrawn", _("撤回")
        FOLLOWED_UP = "followed_up", _("回访")
        REOPENED = "reopened", _("重新调解")
        WARNED = "warned", _("预警")
        BREACHED = "breached", _("超期")
        SENSITIVE = "sensitive", _("标记敏感")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["dispute", "at", "pk"]
        indexes = [models.Index(fields=["dispute", "at"])]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.kind}"


class Alert(models.Model):
    """A high-risk dispute, told at once to the workstation (the village / community above
    its grid) and the sub-center (the town above it): one row per body, written in the
    same transaction as the dispute; the body's staff see it until one of them marks it
    seen (`seen_at`, `seen_by`)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="alerts")
    #: the workstation's (level 3) or the sub-center's (level 2) grid
    grid = models.ForeignKey(Grid, verbose_name=_("预警对象"), on_delete=models.PROTECT,
                             related_name="+")
    raised_at = models.DateTimeField(_("预警时间"))
    seen_at = models.DateTimeField(_("查看时间"), null=True, blank=True)
    seen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("高风险预警")
        verbose_name_plural = _("高风险预警")
        ordering = ["-raised_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["dispute", "grid"],
                                               name="alert_once_per_body")]
        indexes = [models.Index(fields=["grid", "seen_at"])]

    def __str__(self) -> str:
        return f"{self.dispute_id} → {self.grid_id}"
