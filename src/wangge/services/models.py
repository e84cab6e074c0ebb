"""The service hall (掌上办事大厅): service items and their guides, online pre-review of
applications (网上预审), and proxy handling by grid workers (代办, 送证上门).

- A `ServiceItem` is the stable identity of an item (its code); its guide lives in
  `ItemVersion`s. Editing makes a draft; publishing it supersedes the previous version and
  copies the searched and filtered fields onto the item. An `Application` keeps the version
  it was made under, so a later edit never changes what an applicant was asked for.
- Search reads `SearchTerm`, an inverted index (term → item, weight) rebuilt from the
  published version (services.search); `Synonym` groups are data.
- An `Application` (办件) goes through pre-review; each upload is a `MaterialFile` of a
  round, each reviewer verdict a `MaterialCheck`; `ApplicationEvent` is its append-only
  timeline.
- A `ProxyRequest` (代办) is the whole trip: booked → collected at the door with the
  resident's `Authorization` (委托书) → pre-reviewed (its Application) → handled → ready →
  delivered → rated; `ProxyEvent` is its append-only timeline. Its appointment is a
  fieldwork `Appointment`, so it lands in the worker's day plan.
- Working-day clocks per stage are data (`StageClock`; an item's own pre-review days on its
  version), swept by the worker (services.jobs).

Personal data of applicants is kept like the register's: the name in clear (seen only in
scope), ID number and phone sealed (`*_enc`), hashed for exact search (`*_hash`) and masked
for every list (`*_masked`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.cases.models import new_follow_code
from wangge.fieldwork.models import Appointment, Upload
from wangge.org.models import Department, Person
from wangge.registry.models import House, Resident
from wangge.territory.models import Grid


class ItemType(models.TextChoices):
    LICENSE = "license", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    BENEFIT = "benefit", _("行政给付")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    OTHER = "other", _("其他")


class ItemLevel(models.TextChoices):
    CITY = "city", _("市级")
    TOWN = "town", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class LifeEvent(models.TextChoices):
    """人生事件: how residents think of what they need ("I had a baby"), not departments."""

    BIRTH = "birth", _("生育")
    SCHOOL = "school", _("入学")
    EMPLOYMENT = "employment", _("就业")
    MARRIAGE = "marriage", _("婚姻")
    HOUSING = "housing", _("住房")
    MEDICAL = "medical", _("就医")
    ELDERLY = "elderly", _("养老")
    DISABILITY = "disability", _("残疾")
    RELIEF = "relief", _("救助")
    VETERAN = "veteran", _("退役")
    RESIDENCE = "residence", _("户籍与居住")
    BUSINESS = "business", _("经营")
    FARMING = "farming", _("农业生产")
    DEATH = "death", _("身后事")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ELECTRONIC = "electronic", _("电子件")


class ServiceItem(models.Model):
    """事项: the identity of a service item (its code). The fields below `code` are copied
    from the published version on publish (actions.catalogue), so search, filters and lists
    read one row; the guide itself is `current`."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    department = models.ForeignKey(Department, verbose_name=_("实施部门"),
                                   on_delete=models.PROTECT, related_name="service_items")
    type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices)
    level = models.CharField(_("行使层级"), max_length=16, choices=ItemLevel.choices)
    proxy_eligible = models.BooleanField(_("可由网格员代办"), default=False)
    online_prereview = models.BooleanField(_("可网上预审"), default=False)
    #: life event codes as "|elderly|disability|": a filter that is one LIKE on both databases
    events_text = models.CharField(max_length=200, blank=True)
    current = models.OneToOneField("ItemVersion", verbose_name=_("现行版本"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(_("在办"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["code"]
        indexes = [models.Index(fields=["department", "active"]),
                   models.Index(fields=["proxy_eligible", "active"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def events(self) -> list[str]:
        return [e for e in self.events_text.split("|") if e]


class ItemVersion(models.Model):
    """One version of an item's guide (办事指南). Drafts are edited; a published version is
    never changed again (a new draft is made from it), so an application made under it
    reads what the applicant read.

    `materials`: [{"key", "name", "form" (MaterialForm), "count", "required" (true, or
    false for conditional), "condition", "note"}]; `steps`: [str]; `faq`: [{"q", "a"}];
    `aliases`: [str] (the names people say); `events`: [LifeEvent]."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("现行")
        SUPERSEDED = "superseded", _("已废止")

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.DRAFT)
    name = models.CharField(_("事项名称"), max_length=200)
    aliases = models.JSONField(_("俗称"), default=list, blank=True)
    type = models.CharField(_("事项类型"), max_length=16, choices=ItemType.choices)
    department = models.ForeignKey(Department, verbose_name=_("实施部门"),
                                   on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("行使层级"), max_length=16, choices=ItemLevel.choices)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    materials = models.JSONField(_("申请材料"), default=list, blank=True)
    steps = models.JSONField(_("办理流程"), default=list, blank=True)
    legal_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"))
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    fee = models.CharField(_("收费标准"), max_length=200, default="不收费")
    place = models.CharField(_("办理地点"), max_length=200, blank=True)
    hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    in_person_times = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    online_prereview = models.BooleanField(_("可网上预审"), default=False)
    prereview_days = models.PositiveSmallIntegerField(_("预审时限（工作日）"), default=1)
    proxy_eligible = models.BooleanField(_("可由网格员代办"), default=False)
    events = models.JSONField(_("人生事件"), default=list, blank=True)
    faq = models.JSONField(_("常见问题"), default=list, blank=True)
    change_note = models.CharField(_("修改说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("办事指南版本")
        verbose_name_plural = _("办事指南版本")
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="one_version_number"),
            models.UniqueConstraint(fields=["item"], condition=models.Q(state="published"),
                                    name="one_published_version"),
            models.CheckConstraint(condition=models.Q(in_person_times__lte=1),
                                   name="in_person_at_most_once"),
            models.CheckConstraint(condition=models.Q(promised_days__lte=models.F("legal_days")),
                                   name="promised_within_legal"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def material(self, key: str) -> dict | None:
        return next((m for m in self.materials if m.get("key") == key), None)


class Synonym(models.Model):
    """One phrase of a synonym group: every phrase of a group finds what the others find
    (低保 ↔ 最低生活保障, 老年证 ↔ 老年人优待证, 社保 ↔ 社会保险). Data, seeded from
    services/seed_data/synonyms.json and edited on the console."""

    group = models.SlugField(_("同义词组"), max_length=40)
    phrase = models.CharField(_("词语"), max_length=40)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        constraints = [models.UniqueConstraint(fields=["group", "phrase"],
                                               name="one_phrase_per_group")]

    def __str__(self) -> str:
        return f"{self.group}: {self.phrase}"


class SearchTerm(models.Model):
    """The search index: a term (a jieba word, a character pair, a pinyin spelling or its
    initials) of an item's published guide, with the weight of the field it came from.
    Rebuilt per item on publish (services.search.index_item)."""

    term = models.CharField(max_length=64)
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["term", "item", "weight"], name="searchterm_lookup")]
        constraints = [models.UniqueConstraint(fields=["item", "term"], name="one_term_per_item")]

    def __str__(self) -> str:
        return f"{self.term} → {self.item_id} ({self.weight})"


class StageClock(models.Model):
    """Working days allowed for one stage of proxy handling (data, per city): e.g. collect
    within 2 working days of booking, deliver within 2 of the result being ready. The
    pre-review clock is the item's own (`ItemVersion.prereview_days`)."""

    stage = models.CharField(_("环节"), max_length=16, unique=True)
    working_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    #: a warning this many working hours before the deadline
    warn_hours = models.PositiveSmallIntegerField(_("提前预警（工作小时）"), default=4)

    class Meta:
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")

    def __str__(self) -> str:
        return f"{self.stage}: {self.working_days}"


class NumberCounter(models.Model):
    """The last number given per key (e.g. "YS2026": applications of 2026), so numbers are
    gapless and read out on the phone without confusion (actions.numbers)."""

    key = models.CharField(max_length=16, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class SealedApplicant(models.Model):
    """The applicant's personal data, kept like the register's (see module docstring)."""

    applicant_name = models.CharField(_("申请人"), max_length=50)
    id_number_enc = models.BinaryField(_("证件号码(密文)"), null=True, blank=True)
    id_number_hash = models.CharField(max_length=32, blank=True)
    id_number_masked = models.CharField(_("证件号码"), max_length=18, blank=True)
    phone_enc = models.BinaryField(_("联系电话(密文)"), null=True, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        abstract = True


class Application(SealedApplicant):
    """办件: one application for an item, with its materials and pre-review."""

    class Channel(models.TextChoices):
        PUBLIC = "public", _("群众网上申请")
        WORKER = "worker", _("网格员代为申请")
        PROXY = "proxy", _("网格员代办")

    class State(models.TextChoices):
        DRAFT = "draft", _("填写中")
        SUBMITTED = "submitted", _("待预审")
        RETURNED = "returned", _("退回补正")
        PASSED = "passed", _("预审通过")
        REJECTED = "rejected", _("不予通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    no = models.CharField(_("申请编号"), max_length=24, unique=True)
    follow_code = models.CharField(_("查询码"), max_length=16, default=new_follow_code)
    item = models.ForeignKey(ServiceItem, verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="applications")
    version = models.ForeignKey(ItemVersion, verbose_name=_("办事指南版本"),
                                on_delete=models.PROTECT, related_name="applications")
    department = models.ForeignKey(Department, verbose_name=_("预审部门"),
                                   on_delete=models.PROTECT, related_name="+")
    #: the applicant's basic grid, where known (QR page, a worker's application): scope
    grid = models.ForeignKey(Grid, verbose_name=_("所属网格"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, verbose_name=_("登记人口"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.DRAFT)
    round = models.PositiveSmallIntegerField(_("提交轮次"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("预审结论时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("退回或不予通过理由"), max_length=500, blank=True)
    #: the pre-review clock of the current round (the item's prereview_days)
    due_at = models.DateTimeField(_("预审期限"), null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        indexes = [models.Index(fields=["department", "state", "due_at"]),
                   models.Index(fields=["grid", "state"]),
                   models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return self.no


class MaterialFile(models.Model):
    """One uploaded file for one material of an application, in one round (a correction is
    a new file of the next round: the history is kept). Stored privately; served only
    through services.access."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="files")
    material_key = models.CharField(max_length=40)
    round = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to="services/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["application", "round", "material_key"])]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.round}/{self.material_key}"


class MaterialCheck(models.Model):
    """The reviewer's verdict on one material in one round."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("合格")
        CORRECT = "correct", _("需补正")

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="checks")
    material_key = models.CharField(max_length=40)
    round = models.PositiveSmallIntegerField()
    verdict = models.CharField(_("审查结果"), max_length=16, choices=Verdict.choices)
    reason = models.CharField(_("补正理由"), max_length=300, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "round", "material_key"],
                                               name="one_check_per_material_round")]

    def __str__(self) -> str:
        return f"{self.material_key}: {self.verdict}"


class ApplicationEvent(models.Model):
    """Append-only timeline of an application: who did what, from which state to which."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"


class ProxyRequest(SealedApplicant):
    """代办: a grid worker handles an item on a resident's behalf, door to door."""

    class Channel(models.TextChoices):
        QR = "qr", _("扫码预约")
        GUIDE = "guide", _("办事指南预约")
        IN_PERSON = "in_person", _("上门受理")
        PHONE = "phone", _("电话预约")

    class State(models.TextChoices):
        BOOKED = "booked", _("已预约")
        COLLECTED = "collected", _("已收件")
        IN_REVIEW = "in_review", _("部门预审中")
        RETURNED = "returned", _("退回补正")
        HANDLING = "handling", _("部门办理中")
        READY = "ready", _("待送达")
        DELIVERED = "delivered", _("已送达")
        RATED = "rated", _("已评价")
        REJECTED = "rejected", _("不予办理")
        CANCELLED = "cancelled", _("已取消")

    no = models.CharField(_("代办编号"), max_length=24, unique=True)
    follow_code = models.CharField(_("查询码"), max_length=16, default=new_follow_code)
    item = models.ForeignKey(ServiceItem, verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="proxy_requests")
    resident = models.ForeignKey(Resident, verbose_name=_("登记人口"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    house = models.ForeignKey(House, verbose_name=_("房屋"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(_("上门地址"), max_length=200, blank=True)
    worker = models.ForeignKey(Person, verbose_name=_("代办网格员"), on_delete=models.PROTECT,
                               related_name="proxy_requests")
    appointment = models.OneToOneField(Appointment, verbose_name=_("预约"), null=True,
                                       blank=True, on_delete=models.SET_NULL,
                                       related_name="proxy_request")
    application = models.OneToOneField(Application, verbose_name=_("预审办件"), null=True,
                                       blank=True, on_delete=models.SET_NULL,
                                       related_name="proxy_request")
    channel = models.CharField(_("来源"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.BOOKED)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    #: originals taken at the door (收件清单): [{"name", "count"}]
    originals = models.JSONField(_("收取原件"), default=list, blank=True)
    originals_returned_at = models.DateTimeField(_("原件归还时间"), null=True, blank=True)
    collected_at = models.DateTimeField(_("收件时间"), null=True, blank=True)
    ready_at = models.DateTimeField(_("出证时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    recipient_name = models.CharField(_("签收人"), max_length=50, blank=True)
    delivery_signature = models.ForeignKey(Upload, verbose_name=_("签收签名"), null=True,
                                           blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    delivery_photo = models.ForeignKey(Upload, verbose_name=_("送达照片"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=300, blank=True)
    #: the clock of the current stage (StageClock); None where no clock runs
    stage_due_at = models.DateTimeField(_("本环节期限"), null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("代办")
        verbose_name_plural = _("代办")
        indexes = [models.Index(fields=["worker", "state"]),
                   models.Index(fields=["grid", "state"]),
                   models.Index(fields=["state", "stage_due_at"]),
                   models.Index(fields=["state", "delivered_at"])]
        constraints = [models.CheckConstraint(
            condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
            name="proxy_rating_1_to_5")]

    def __str__(self) -> str:
        return self.no


class Authorization(models.Model):
    """委托书: the resident's consent, signed on the worker's phone screen at the door."""

    proxy = models.OneToOneField(ProxyRequest, on_delete=models.CASCADE,
                                 related_name="authorization")
    text = models.TextField(_("委托事项"))
    signer_name = models.CharField(_("委托人"), max_length=50)
    signature = models.ForeignKey(Upload, verbose_name=_("签名"), on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(_("签署时间"))

    class Meta:
        verbose_name = _("委托书")
        verbose_name_plural = _("委托书")

    def __str__(self) -> str:
        return f"委托书 {self.proxy_id}"


class ProxyEvent(models.Model):
    """Append-only timeline of a proxy request."""

    proxy = models.ForeignKey(ProxyRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)
    #: photo / signature hashes of the step, originals listed …
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"
