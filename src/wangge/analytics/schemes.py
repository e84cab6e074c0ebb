"""The only writer of evaluation schemes (考核方案): metric weights as data.

`check_save_scheme(user, …)` decides whether the user may (the center's administrators and
superusers: every ranking in the city moves with a weight) and validates; `do_save_scheme`
creates or replaces one scheme in one transaction with an audit entry.
`do_seed_schemes()` adds the default schemes of schemes.json that are missing (by code),
for `wangge setup` and the demo: a city's own edits are never overwritten.

A scheme is valid when it ranks a breakdown that is ranked (department, grid, worker),
names at least one metric, each a known metric that breakdown has, once, with a positive
finite weight.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from wangge.analytics.metrics import METRIC_BY_CODE
from wangge.analytics.models import EvaluationScheme
from wangge.analytics.ranking import RANKED_DIMS
from wangge.core import audit
from wangge.org.access import can_see_path
from wangge.org.models import Role
from wangge.territory.models import Grid

SEED_FILE = Path(__file__).parent / "schemes.json"
Actor = AbstractBaseUser | AnonymousUser | None


@dataclass
class SchemeError(Exception):
    """Bad scheme data: `field` names where ("weights.2.metric")."""

    field: str
    msg: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.msg}"


@cache
def default_rows() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(SEED_FILE.read_text(encoding="utf-8")))


def clean_weights(dim: str, weights: Any) -> list[dict[str, Any]]:
    """The weights as stored ([{metric, weight}]), or SchemeError naming the bad one."""
    if dim not in RANKED_DIMS:
        raise SchemeError("dim", f"{dim!r}: 只能是 {'、'.join(RANKED_DIMS)}")
    if not isinstance(weights, Sequence) or isinstance(weights, str | bytes) or not weights:
        raise SchemeError("weights", "至少需要一项指标及其权重", "empty")
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, item in enumerate(weights):
        if not isinstance(item, Mapping):
            raise SchemeError(f"weights.{i}", "每一项须为 {metric, weight}")
        code = item.get("metric")
        metric = METRIC_BY_CODE.get(code) if isinstance(code, str) else None
        if metric is None:
            raise SchemeError(f"weights.{i}.metric", f"未知指标 {code!r}", "unknown_metric")
        if dim not in metric.dims:
            raise SchemeError(f"weights.{i}.metric",
                              f"指标 {metric.name} 不适用于该考核对象", "metric_not_in_dim")
        if code in seen:
            raise SchemeError(f"weights.{i}.metric", f"指标 {metric.name} 重复", "duplicate")
        seen.add(code)
        weight = item.get("weight")
        if (isinstance(weight, bool) or not isinstance(weight, int | float)
                or not math.isfinite(weight) or weight <= 0 or weight > 1000):
            raise SchemeError(f"weights.{i}.weight", "权重须为大于 0、不超过 1000 的数",
                              "bad_weight")
        out.append({"metric": code, "weight": weight})
    return out


def may_edit_schemes(user: Actor) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    city = Grid.objects.filter(level=0).values_list("path", flat=True).first()
    return city is not None and can_see_path(user, city, roles=frozenset({Role.ADMIN}))


def check_save_scheme(user: Actor, *, code: str, name: str, dim: str, weights: Any
                      ) -> list[dict[str, Any]]:
    """PermissionDenied unless the user may edit schemes; SchemeError naming the field
    for bad data; else the cleaned weights."""
    if not may_edit_schemes(user):
        raise PermissionDenied("只有中心管理员可以修改考核方案")
    code = (code or "").strip()
    if not code or len(code) > 32 or not all(c.isascii() and (c.isalnum() or c in "-_")
                                             for c in code):
        raise SchemeError("code", "编码须为 1–32 个字母、数字、- 或 _")
    if not (name or "").strip() or len(name) > 100:
        raise SchemeError("name", "名称须为 1–100 个字符")
    existing = EvaluationScheme.objects.filter(code=code).first()
    if existing is not None and existing.dim != dim:
        raise SchemeError("dim", "已有方案的考核对象不能更改")
    return clean_weights(dim, weights)


def do_save_scheme(*, actor: Actor, code: str, name: str, dim: str, weights: Any,
                   active: bool = True) -> EvaluationScheme:
    """Create or replace the scheme `code` (validated again here: no unchecked write)."""
    clean = clean_weights(dim, weights)
    with transaction.atomic():
        scheme = EvaluationScheme.objects.select_for_update().filter(code=code).first()
        before = None if scheme is None else {"name": scheme.name, "weights": scheme.weights,
                                              "active": scheme.active}
        if scheme is None:
            scheme = EvaluationScheme(code=code, dim=dim)
        scheme.name, scheme.weights, scheme.active = name.strip(), clean, active
        scheme.save()
        audit.record("analytics.scheme_saved", actor=actor, object_type="analytics.scheme",
                     object_id=code, dim=dim, before=before,
                     after={"name": scheme.name, "weights": clean, "active": active})
    return scheme


def do_seed_schemes() -> list[str]:
    """Add the default schemes missing (by code); returns the codes added."""
    added: list[str] = []
    with transaction.atomic():
        have = set(EvaluationScheme.objects.values_list("code", flat=True))
        for row in default_rows():
            if row["code"] in have:
                continue
            EvaluationScheme.objects.create(
                code=row["code"], name=row["name"], dim=row["dim"],
                weights=clean_weights(row["dim"], row["weights"]), active=True)
            added.append(row["code"])
        if added:
            audit.record("analytics.schemes_seeded", actor=None,
                         object_type="analytics.scheme", object_id=",".join(added))
    return added
