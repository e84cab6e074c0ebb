"""Departments, people and who holds which role where (with history)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.territory.models import Grid


class Department(models.Model):
    """An organisation unit: the center, a sub-center, a workstation or a line department.

    `grid` is the territory it serves: the city for the center and city departments, a
    level-2 grid for a sub-center, a level-3 grid for a workstation.

    An external system (the 12345 hotline, 数字城管 …) is a department of kind `external`
    serving the city: a duty rule or a case pointing at it means "transferred to that
    system". It calls our API as its `service_user` (a login without roles, so scopes and
    audit need no special case); only external departments have one.
    """

    class Kind(models.TextChoices):
        CENTER = "center", _("网格化管理服务中心")
        SUBCENTER = "subcenter", _("网格化分中心")
        WORKSTATION = "workstation", _("网格化工作站")
        DEPARTMENT = "department", _("职能部门")
        EXTERNAL = "external", _("外部系统")

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    grid = models.ForeignKey(
        Grid, verbose_name=_("服务网格"), on_delete=models.PROTECT, related_name="departments"
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="external_department",
    )

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_user__isnull=True) | models.Q(kind="external"),
                name="service_user_only_for_external",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_external(self) -> bool:
        return self.kind == self.Kind.EXTERNAL


class Person(models.Model):
    """Someone who works in the system. Work contact details only: these are public on the
    grid's QR page; private data about residents lives in the registry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    name = models.CharField(_("姓名"), max_length=50)
    work_phone = models.CharField(_("工作电话"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    GRID_CHIEF = "grid_chief", _("网格长")
    PARTY_GROUP_LEADER = "party_group_leader", _("党小组长")
    JOINT_GROUP_LEADER = "joint_group_leader", _("联组长")
    SUPERVISOR = "supervisor", _("督导员")
    MEDIATOR = "mediator", _("调解员")
    GRID_POLICE = "grid_police", _("网格警员")
    PATROLLER = "patroller", _("巡防员")
    INFO_OFFICER = "info_officer", _("网格信息员")
    FIRST_RESPONSIBLE = "first_responsible", _("第一责任人")
    STATION_STAFF = "station_staff", _("工作站人员")
    SUBCENTER_STAFF = "subcenter_staff", _("分中心人员")
    DISPATCHER = "dispatcher", _("调度员")
    ADMIN = "admin", _("管理员")
    LEADER = "leader", _("领导")
    DEPARTMENT_STAFF = "department_staff", _("部门人员")


class Employment(models.TextChoices):
    FULL_TIME = "full_time", _("专职")
    PART_TIME = "part_time", _("兼职")


class RoleAssignment(models.Model):
    """Person × role × grid over a period. Ending a role keeps the row: history."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="roles"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, db_index=True)
    grid = models.ForeignKey(
        Grid, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    employment = models.CharField(
        _("用工性质"), max_length=16, choices=Employment.choices, blank=True
    )
    responsible = models.BooleanField(
        _("责任网格员"), default=False, help_text=_("该基层网格唯一的责任网格员")
    )
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("角色任命")
        verbose_name_plural = _("角色任命")
        constraints = [
            # Exactly one responsible grid worker per basic grid at a time (the "at least
            # one" half is checked by the demo loader and the org health check).
            models.UniqueConstraint(
                fields=["grid"],
                condition=models.Q(responsible=True, ended_on__isnull=True),
                name="one_responsible_worker_per_grid",
            ),
            models.CheckConstraint(
                condition=models.Q(responsible=False) | models.Q(role="grid_worker"),
                name="only_grid_workers_are_responsible",
            ),
        ]
        indexes = [models.Index(fields=["person", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} · {self.grid}"

    def validate_constraints(self, exclude: object = None) -> None:
        # A form assigning a new responsible worker is a handover: do_assign_role ends the
        # previous worker's role in the same transaction, and the database still refuses
        # two current responsible workers. Checking the constraint before that would
        # refuse every handover.
        if self.responsible and self._state.adding:
            exclude = set(exclude or ()) | {"grid"}
        super().validate_constraints(exclude=exclude)
