"""Interfaces (api, views, management commands) never write models directly: they parse,
call `access` / `actions`, render. import-linter cannot see method calls, so this test reads
the source: a call that saves, deletes, creates or updates rows in an interface module fails
it, unless the allow-list below names it with its reason (keep the list tiny)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "wangge"

#: interface module (relative to src/wangge) -> the write calls it may make, and why
ALLOWED: dict[str, tuple[set[str], str]] = {
    "core/management/commands/keys.py": (
        {"bulk_update"},
        "the key rotation re-seals ciphertext in place under row locks; no domain state "
        "changes, and the completed rotation is audited (core.keys_rotated)",
    ),
}

#: methods that write whatever the receiver (a model instance or a manager / queryset)
ALWAYS = {"save", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
#: methods that write when called on a manager or a queryset written out in the call (a
#: queryset first kept in a variable is not seen: the scan is an approximation)
ON_ROWS = {"create", "update", "delete"}
QUERYSET = re.compile(r"(\bobjects\b|_set\b|\.(filter|exclude|all|select_for_update)\()")


def is_interface(rel: str) -> bool:
    return bool(re.fullmatch(r"(\w+/)?(api|api_\w+|views|views_\w+)\.py", rel)
                or re.fullmatch(r"\w+/management/commands/\w+\.py", rel))


def writes(source: str) -> list[tuple[int, str]]:
    """(line, method) of each call in the source that writes rows."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, ast.unparse(node.func.value)
        on_rows = name in ON_ROWS and QUERYSET.search(receiver)
        on_instance = name == "delete" and not node.args and not node.keywords
        if name in ALWAYS or on_rows or on_instance:
            found.append((node.lineno, name))
    return sorted(found)


def interface_modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "tests" not in p.parts
                  and is_interface(p.relative_to(ROOT).as_posix()))


def test_the_scan_sees_writes_and_ignores_look_alikes() -> None:
    source = """
Case.objects.create(title="x")
Case.objects.filter(pk=1).update(state="closed")
case.save(update_fields=["state"])
case.delete()
grid.children_set.create(name="x")
Case.objects.bulk_create([])
@router.delete("/{code}")
def f(): pass
context.update(extra)
bar.update(3)
out.update({"a": 1})
"""
    assert [m for _, m in writes(source)] == [
        "create", "update", "save", "delete", "create", "bulk_create"]


def test_interface_modules_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in interface_modules()}
    assert {"cases/api.py", "cases/views.py", "territory/api.py", "workcal/views.py",
            "core/management/commands/keys.py"} <= names


@pytest.mark.parametrize("path", interface_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_interfaces_write_only_through_actions(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    allowed, _why = ALLOWED.get(rel, (set(), ""))
    found = writes(path.read_text(encoding="utf-8"))
    bad = [f"{rel}:{line}: .{name}(" for line, name in found if name not in allowed]
    assert not bad, "write through a do_* action instead:\n" + "\n".join(bad)
    if rel in ALLOWED:  # the allow-list only names what is still there
        assert {name for _, name in found} == allowed


def test_api_schema_names_are_unique() -> None:
    """django-ninja names OpenAPI components after the schema class: two apps' `EventOut`
    would share one component, and every answer of the other would be documented (and
    checked by schemathesis) against the wrong shape."""
    import collections

    names: collections.Counter[str] = collections.Counter()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")) in ("Schema", "ModelSchema")
                    for b in node.bases):
                names[node.name] += 1
    assert [n for n, k in names.items() if k > 1] == []
