"""The grid tree.

Grid codes (documented in docs/grid-codes.md) build on China's 12-digit statistical zoning
code: the village/community (level 3) carries its own 12-digit code, a basic grid (level 4)
appends a 3-digit serial, levels 0–2 pad their shorter codes to 12 digits.
"""

from __future__ import annotations

import secrets

import shapely
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_qr_token() -> str:
    """An unguessable token for the grid's public QR page (128 bits)."""
    return secrets.token_urlsafe(16)


class Level(models.IntegerChoices):
    CITY = 0, _("市")
    ZONE = 1, _("一级网格")
    TOWN = 2, _("二级网格")
    VILLAGE = 3, _("三级责任网格")
    BASIC = 4, _("四级基层网格")


class Kind(models.TextChoices):
    CITY = "city", _("市")
    ZONE = "zone", _("片区")
    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    URBAN = "urban", _("城市网格")
    RURAL = "rural", _("农村网格")


#: which kinds are allowed at which level
KINDS_BY_LEVEL: dict[int, frozenset[str]] = {
    0: frozenset({Kind.CITY}),
    1: frozenset({Kind.ZONE}),
    2: frozenset({Kind.SUBDISTRICT, Kind.TOWN}),
    3: frozenset({Kind.COMMUNITY, Kind.VILLAGE}),
    4: frozenset({Kind.URBAN, Kind.RURAL}),
}


class Grid(models.Model):
    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialized path "/<root code>/…/<own code>/": a subtree is a prefix match.
    path = models.CharField(_("路径"), max_length=255, unique=True)
    boundary = models.BinaryField(_("边界 (WKB)"))
    min_lng = models.FloatField()
    min_lat = models.FloatField()
    max_lng = models.FloatField()
    max_lat = models.FloatField()
    label_lng = models.FloatField(_("标注点经度"))
    label_lat = models.FloatField(_("标注点纬度"))
    qr_token = models.CharField(_("二维码令牌"), max_length=32, unique=True, default=new_qr_token)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=0, level__lte=4), name="grid_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def geometry(self) -> shapely.Geometry:
        return shapely.from_wkb(bytes(self.boundary))

    def ancestor_paths(self) -> list[str]:
        """The materialized paths of this grid and every grid above it, root first."""
        parts = self.path.strip("/").split("/")
        return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


class TerritoryState(models.Model):
    """One row: the version stamp that every grid change bumps, so that every process
    rebuilds its point → grid index when the tree changes."""

    version = models.PositiveBigIntegerField(default=0)
    # A random stamp beside the counter: a rolled-back change can reuse a counter value,
    # never a stamp, so a process can't keep an index built from a change that never was.
    stamp = models.CharField(max_length=32, default="")
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("网格版本")
        verbose_name_plural = _("网格版本")

    def __str__(self) -> str:
        return f"v{self.version}"
