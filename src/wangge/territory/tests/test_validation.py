"""Tree rules: polygons, parents, siblings, coverage."""

from __future__ import annotations

import dataclasses

import shapely

from wangge.territory.tests.trees import box, small_tree
from wangge.territory.validation import check_tree


def replace(records, code, **changes):
    return [dataclasses.replace(r, **changes) if r.code == code else r for r in records]


def reasons(problems):
    return {(p.code, p.field): p.reason for p in problems}


def test_a_good_tree_has_no_problems() -> None:
    errors, warnings = check_tree(small_tree())
    assert errors == [] and warnings == []


def test_child_outside_parent_is_an_error() -> None:
    tree = replace(small_tree(), "999999001001002", geometry=box(0.01, 0, 0.03, 0.01))
    errors, _ = check_tree(tree)
    assert "outside its parent" in reasons(errors)[("999999001001002", "geometry")]


def test_overlapping_siblings_are_an_error() -> None:
    tree = replace(small_tree(), "999999001001002", geometry=box(0.005, 0, 0.02, 0.01))
    errors, _ = check_tree(tree)
    assert any("overlaps its sibling" in p.reason for p in errors)


def test_coverage_gap_is_a_warning_with_its_size() -> None:
    tree = replace(small_tree(), "999999001001002", geometry=box(0.01, 0, 0.018, 0.01))
    errors, warnings = check_tree(tree)
    assert errors == []
    (gap,) = warnings
    assert gap.code == "999999001001"
    assert "10.00%" in gap.reason and "m²" in gap.reason


def test_invalid_polygon_names_the_reason() -> None:
    bowtie = shapely.Polygon([(100, 30), (100.01, 30.01), (100.01, 30), (100, 30.02)])
    errors, _ = check_tree(replace(small_tree(), "999999001001001", geometry=bowtie))
    assert "invalid polygon" in reasons(errors)[("999999001001001", "geometry")]


def test_structure_errors_each_name_their_field() -> None:
    tree = small_tree()
    tree = replace(tree, "999999001001001", parent_code="999999001999")
    tree = replace(tree, "999999001001002", kind="village")
    tree = replace(tree, "999999001000", name="  ")
    errors, _ = check_tree(tree)
    got = reasons(errors)
    assert "does not exist" in got[("999999001001001", "parent_code")]
    assert "kind 'village'" in got[("999999001001002", "kind")]
    assert "empty" in got[("999999001000", "name")]


def test_basic_grid_code_must_extend_its_village_code() -> None:
    tree = small_tree()
    tree = [dataclasses.replace(r, code="999999001002003") if r.code == "999999001001002" else r
            for r in tree]
    errors, _ = check_tree(tree)
    assert "starts with its village" in reasons(errors)[("999999001002003", "code")]
