"""Every write to the grid tree: one transaction, an audit entry, an outbox row and a bump
of the territory version (so every process rebuilds its point → grid index)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import shapely
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from wangge.core import audit, outbox
from wangge.org.access import roles_of
from wangge.org.models import Role
from wangge.territory.models import Grid, TerritoryState
from wangge.territory.records import GridRecord, Problem
from wangge.territory.validation import check_tree

BATCH = 2000


class GridValidationError(Exception):
    """The change was refused; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(map(str, problems[:5])))


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[Problem] = field(default_factory=list)


def grid_to_record(grid: Grid, parent_code: str | None) -> GridRecord:
    return GridRecord(grid.code, grid.name, grid.level, grid.kind, parent_code, grid.geometry)


def existing_records() -> dict[str, GridRecord]:
    rows = Grid.objects.values_list("code", "name", "level", "kind", "parent__code", "boundary")
    rows = list(rows)
    geoms = shapely.from_wkb([bytes(r[5]) for r in rows]) if rows else []
    return {
        r[0]: GridRecord(r[0], r[1], r[2], r[3], r[4], g) for r, g in zip(rows, geoms, strict=True)
    }


def do_import_grids(
    records: Sequence[GridRecord],
    *,
    actor: AbstractBaseUser | None = None,
    validate: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create or update the given grids, all or nothing. Grids not named are kept.

    The whole resulting tree is validated (a changed parent can strand its children), and
    every problem is reported at once in a GridValidationError.
    """
    # Stored polygons follow the right-hand rule, as exported; normalising here makes a
    # re-imported export compare equal to what is stored.
    records = [dataclasses.replace(r, geometry=shapely.orient_polygons(r.geometry))
               for r in records]
    current = existing_records()
    merged = dict(current)
    merged.update({r.code: r for r in records})
    result = ImportResult()
    if validate:
        errors, warnings = check_tree(list(merged.values()))
        dup = _duplicates_in_file(records)
        if errors or dup:
            raise GridValidationError(dup + errors)
        result.warnings = warnings

    with transaction.atomic():
        paths = _paths(merged)
        by_code = {g.code: g for g in Grid.objects.only("id", "code", "path")}
        changed_codes: list[str] = []
        # Parents first, so every child can point at its parent's id.
        for rec in sorted(records, key=lambda r: r.level):
            old = current.get(rec.code)
            if old is not None and _same(old, rec) and by_code[rec.code].path == paths[rec.code]:
                result.unchanged += 1
                continue
            changed_codes.append(rec.code)
        to_create = [merged[c] for c in changed_codes if c not in by_code]
        to_update = [merged[c] for c in changed_codes if c in by_code]
        for level in range(5):
            batch = [_new_grid(r, paths[r.code], by_code) for r in to_create if r.level == level]
            for start in range(0, len(batch), BATCH):
                chunk = Grid.objects.bulk_create(batch[start:start + BATCH])
                by_code.update({g.code: g for g in chunk})
                if progress:
                    progress(len(chunk))
        full = Grid.objects.in_bulk([r.code for r in to_update], field_name="code")
        updated = [_updated_grid(full[r.code], r, paths[r.code], by_code) for r in to_update]
        # A moved grid drags the paths of its (unlisted) descendants along.
        updated += _repath_descendants(by_code, paths, {r.code for r in records})
        Grid.objects.bulk_update(
            updated,
            ["name", "level", "kind", "parent", "path", "boundary", "min_lng", "min_lat",
             "max_lng", "max_lat", "label_lng", "label_lat"],
            batch_size=BATCH,
        )
        result.created = len(to_create)
        result.updated = len(to_update)
        if result.created or result.updated:
            version = _bump_version()
            audit.record(
                "grids.import", actor=actor, object_type="territory", object_id=version,
                created=result.created, updated=result.updated,
            )
            outbox.enqueue(
                "territory.grids_changed",
                {"version": version, "created": result.created, "updated": result.updated},
                key=f"territory.v{version}",
            )
    return result


#: who may rename a grid or redraw its boundary: the center's dispatchers and admins (a
#: leader's view is read-only; sub-centers and grid workers ask the center)
GRID_EDITORS = frozenset({Role.DISPATCHER, Role.ADMIN})


def check_update_grid(user: AbstractBaseUser | AnonymousUser, grid: Grid) -> None:
    """Raise PermissionDenied unless the user may edit this grid (which they can see)."""
    if not user.is_authenticated:
        raise PermissionDenied("登录后才能修改网格")
    if not (user.is_superuser or roles_of(user) & GRID_EDITORS):
        raise PermissionDenied("只有中心的调度员和管理员可以修改网格")


def do_update_grid(
    grid: Grid,
    *,
    name: str | None = None,
    geometry: shapely.Geometry | None = None,
    actor: AbstractBaseUser | None = None,
) -> ImportResult:
    """Rename a grid or redraw its boundary, validated against its parent, siblings and
    children."""
    parent_code = grid.parent.code if grid.parent_id else None
    rec = GridRecord(
        grid.code,
        name if name is not None else grid.name,
        grid.level,
        grid.kind,
        parent_code,
        geometry if geometry is not None else grid.geometry,
    )
    return do_import_grids([rec], actor=actor)


def _duplicates_in_file(records: Sequence[GridRecord]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for r in records:
        if r.code in seen:
            out.append(Problem("code appears more than once in the file", code=r.code,
                               field="code"))
        seen.add(r.code)
    return out


def _same(a: GridRecord, b: GridRecord) -> bool:
    return (
        (a.name, a.level, a.kind, a.parent_code) == (b.name, b.level, b.kind, b.parent_code)
        and shapely.equals_exact(a.geometry, b.geometry, tolerance=0)
    )


def _paths(records: dict[str, GridRecord]) -> dict[str, str]:
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code not in paths:
            parent = records[code].parent_code
            paths[code] = (path_of(parent) if parent else "/") + code + "/"
        return paths[code]

    for code in sorted(records, key=lambda c: records[c].level):
        path_of(code)
    return paths


def _geometry_fields(rec: GridRecord) -> dict[str, object]:
    minx, miny, maxx, maxy = rec.geometry.bounds
    label = shapely.point_on_surface(rec.geometry)
    return {
        "boundary": shapely.to_wkb(rec.geometry),
        "min_lng": minx, "min_lat": miny, "max_lng": maxx, "max_lat": maxy,
        "label_lng": label.x, "label_lat": label.y,
    }


def _new_grid(rec: GridRecord, path: str, by_code: dict[str, Grid]) -> Grid:
    parent = by_code[rec.parent_code] if rec.parent_code else None
    return Grid(
        code=rec.code, name=rec.name, level=rec.level, kind=rec.kind, parent=parent, path=path,
        **_geometry_fields(rec),
    )


def _updated_grid(grid: Grid, rec: GridRecord, path: str, by_code: dict[str, Grid]) -> Grid:
    grid.name, grid.level, grid.kind, grid.path = rec.name, rec.level, rec.kind, path
    grid.parent = by_code[rec.parent_code] if rec.parent_code else None
    for key, value in _geometry_fields(rec).items():
        setattr(grid, key, value)
    return grid


def _repath_descendants(
    by_code: dict[str, Grid], paths: dict[str, str], listed: set[str]
) -> list[Grid]:
    stale = [c for c, g in by_code.items() if c not in listed and g.path != paths[c]]
    grids = list(Grid.objects.filter(code__in=stale))
    for g in grids:
        g.path = paths[g.code]
    return grids


def _bump_version() -> int:
    state, _ = TerritoryState.objects.get_or_create(pk=1)
    TerritoryState.objects.filter(pk=1).update(version=F("version") + 1, stamp=uuid.uuid4().hex)
    state.refresh_from_db()
    return state.version
