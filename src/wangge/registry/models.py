"""The base registry: buildings, houses, households, residents and what grid workers keep
current about them.

Personal data (ID numbers, phones, special-group membership) is stored three ways and never
in plain text: `*_enc` sealed with AES-GCM (core.crypto), `*_hash` a keyed hash for exact
search, `*_masked` what every list and export shows. Every record belongs to one basic grid;
`grid` is derived (location → territory lookup, or from the building) and drives scope.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.territory.models import Grid


def new_qr_token() -> str:
    return secrets.token_urlsafe(16)


class GridOwned(models.Model):
    grid = models.ForeignKey(
        Grid, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class Building(GridOwned):
    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("住宅")
        COMMERCIAL = "commercial", _("商业")
        MIXED = "mixed", _("商住混合")
        PUBLIC = "public", _("公共建筑")
        INDUSTRIAL = "industrial", _("工业")

    code = models.CharField(_("楼栋编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, db_index=True)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    floors = models.PositiveSmallIntegerField(_("层数"))
    use = models.CharField(_("用途"), max_length=16, choices=Use.choices)
    qr_token = models.CharField(_("二维码令牌"), max_length=32, unique=True, default=new_qr_token)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")

    def __str__(self) -> str:
        return self.name


class House(GridOwned):
    class Use(models.TextChoices):
        SELF_OCCUPIED = "self_occupied", _("自住")
        RENTED = "rented", _("出租")
        COMMERCIAL = "commercial", _("经营")
        VACANT = "vacant", _("空置")

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="houses"
    )
    number = models.CharField(_("房号"), max_length=20)
    area = models.DecimalField(_("面积(㎡)"), max_digits=8, decimal_places=2)
    use = models.CharField(_("用途"), max_length=16, choices=Use.choices)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="house_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.building.name} {self.number}"


class Household(GridOwned):
    house = models.ForeignKey(
        House, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households"
    )
    number = models.CharField(_("户号"), max_length=30, unique=True)
    #: set by fieldwork's visits (registry.actions.do_mark_visited); plans read it
    last_visited_on = models.DateField(_("最近走访"), null=True, blank=True)

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")

    def __str__(self) -> str:
        return self.number


class Resident(GridOwned):
    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    class ResidenceType(models.TextChoices):
        REGISTERED = "registered", _("户籍人口")
        FLOATING = "floating", _("流动人口")
        OVERSEAS = "overseas", _("境外人员")

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        GRANDCHILD = "grandchild", _("孙子女")
        SIBLING = "sibling", _("兄弟姐妹")
        OTHER = "other", _("其他")

    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_number_enc = models.BinaryField(_("身份证号(密文)"))
    id_number_hash = models.CharField(max_length=32)
    id_number_masked = models.CharField(_("身份证号"), max_length=18)
    phone_enc = models.BinaryField(_("联系电话(密文)"), null=True, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, default="汉族")
    residence_type = models.CharField(_("人口类型"), max_length=16,
                                      choices=ResidenceType.choices)
    house = models.ForeignKey(House, verbose_name=_("房屋"), on_delete=models.PROTECT,
                              related_name="residents")
    household = models.ForeignKey(Household, verbose_name=_("家庭户"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="members")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices,
                                blank=True)
    moved_in = models.DateField(_("迁入日期"), null=True, blank=True)
    moved_out = models.DateField(_("迁出日期"), null=True, blank=True)
    last_visited_on = models.DateField(_("最近走访"), null=True, blank=True)

    class Meta:
        verbose_name = _("人口")
        verbose_name_plural = _("人口")
        permissions = [("unmask_personal_data", _("可查看完整证件号和电话（须说明用途）"))]
        # Declared here rather than with unique=/db_index= on the fields: on PostgreSQL
        # those add a second "_like" index per column, which exact-match hashes never use
        # and every insert pays for.
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="resident_id_number_once")
        ]
        indexes = [
            models.Index(fields=["grid", "name"]),
            models.Index(fields=["phone_hash"], name="resident_phone_hash_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"


class SpecialGroup(GridOwned):
    """Membership of a special group. The kind is sealed; `kind_hash` (keyed per person)
    only keeps a person from holding the same kind twice."""

    class Kind(models.TextChoices):
        RELEASED_PRISONER = "released_prisoner", _("刑满释放人员")
        COMMUNITY_CORRECTION = "community_correction", _("社区矫正人员")
        DRUG_USER = "drug_user", _("吸毒人员")
        MENTAL_DISORDER_RISK = "mental_disorder_risk", _("肇事肇祸等严重精神障碍患者")
        AIDS_RISK = "aids_risk", _("重点艾滋病危险人群")
        KEY_YOUTH = "key_youth", _("重点青少年")
        ELDERLY_ALONE = "elderly_alone", _("独居老人")
        LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
        DISABLED = "disabled", _("残疾人")
        LOW_INCOME = "low_income", _("低保户")

    resident = models.ForeignKey(Resident, verbose_name=_("人员"), on_delete=models.CASCADE,
                                 related_name="special_groups")
    kind_enc = models.BinaryField(_("类别(密文)"))
    kind_hash = models.CharField(max_length=32)
    since = models.DateField(_("列管日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("特殊人群")
        verbose_name_plural = _("特殊人群")
        constraints = [
            models.UniqueConstraint(fields=["resident", "kind_hash"], name="special_group_once")
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class KeyPlace(GridOwned):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("学校")
        MARKET = "market", _("市场")
        HAZARDOUS = "hazardous", _("危化品场所")
        ENTERTAINMENT = "entertainment", _("娱乐场所")
        HOSPITAL = "hospital", _("医疗机构")
        RELIGIOUS = "religious", _("宗教场所")
        CONSTRUCTION = "construction", _("建筑工地")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    address = models.CharField(_("地址"), max_length=200)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("重点场所")
        verbose_name_plural = _("重点场所")

    def __str__(self) -> str:
        return self.name


class Organisation(GridOwned):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        SOCIAL = "social", _("社会组织")
        INSTITUTION = "institution", _("机关事业单位")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    address = models.CharField(_("地址"), max_length=200)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")

    def __str__(self) -> str:
        return self.name


class RegistryChange(models.Model):
    """Append-only history of every registry write: who, when, what (masked before → after)."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(_("对象类型"), max_length=32)
    object_id = models.BigIntegerField(_("对象"))
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT,
                             related_name="+")
    action = models.CharField(_("动作"), max_length=8, choices=Action.choices)
    changes = models.JSONField(_("变更"), default=dict)
    source = models.CharField(_("来源"), max_length=16, default="api")

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class UnmaskLog(models.Model):
    """Every read of an unmasked value: who, whose record, which fields, when, why."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("查看人"),
                              on_delete=models.PROTECT, related_name="+")
    # No database constraint: the log outlives the record it is about.
    resident = models.ForeignKey(Resident, verbose_name=_("被查看人"), on_delete=models.DO_NOTHING,
                                 db_constraint=False, related_name="unmask_logs")
    fields = models.CharField(_("字段"), max_length=64)
    purpose = models.CharField(_("用途"), max_length=200)

    class Meta:
        verbose_name = _("查看明文记录")
        verbose_name_plural = _("查看明文记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} → {self.resident_id}: {self.purpose}"
