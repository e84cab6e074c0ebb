"""The composite score and the 红黑榜: points of a rate, a count and a time, weights of
the metrics that have a value, ties, peers without a score, the two lists; schemes as data
(validated, saved with an audit entry, seeded without overwriting a city's edits).

The score tests use hand-made values and unsaved schemes: no database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.models import EvaluationScheme
from wangge.analytics.ranking import (
    Ranked,
    assign_ranks,
    board_of,
    default_scheme,
    rank,
    ranking_table,
    red_black,
    scheme_bases,
    score,
    weights_of,
)
from wangge.analytics.schemes import (
    SchemeError,
    check_save_scheme,
    clean_weights,
    default_rows,
    do_save_scheme,
    do_seed_schemes,
)
from wangge.core.models import AuditEntry
from wangge.org.models import Department


def scheme(dim: str, **weights: float) -> EvaluationScheme:
    return EvaluationScheme(code="t", name="测试方案", dim=dim,
                            weights=[{"metric": m, "weight": w} for m, w in weights.items()])


# -- points and the score (no database) ---------------------------------------------------

def test_a_rate_scores_itself_or_its_complement_when_lower_is_better() -> None:
    s = scheme("department", satisfaction_rate=1, rework_rate=1)
    got = score({1: {"satisfaction_rate": 90.0, "rework_rate": 10.0}}, s)
    assert got[1][1] == {"satisfaction_rate": 90.0, "rework_rate": 90.0}
    assert got[1][0] == 90.0


def test_counts_and_times_score_against_the_best_peer() -> None:
    # visits: higher is better (best 200); overdue: lower is better (best 2);
    # average handling hours: lower is better (best 4); patrol hours: higher (best 50)
    s = scheme("grid", visit_people=1, overdue=1, avg_handling_hours=1)
    values = {1: {"visit_people": 200, "overdue": 2, "avg_handling_hours": 4.0},
              2: {"visit_people": 50, "overdue": 8, "avg_handling_hours": 16.0},
              3: {"visit_people": 0, "overdue": 0, "avg_handling_hours": 5.0}}
    got = score(values, s)
    assert got[1][1] == {"visit_people": 100.0, "overdue": 0.0, "avg_handling_hours": 100.0}
    # 100 × 50 ÷ 200 = 25; 0 overdue is the best (min 0): 100 × 0 ÷ 8 = 0; 100 × 4 ÷ 16 = 25
    assert got[2][1] == {"visit_people": 25.0, "overdue": 0.0, "avg_handling_hours": 25.0}
    # none overdue earns 100; 100 × 4 ÷ 5 = 80
    assert got[3][1] == {"visit_people": 0.0, "overdue": 100.0, "avg_handling_hours": 80.0}
    w = scheme("worker", patrol_hours=1)
    got = score({7: {"patrol_hours": 50.0}, 8: {"patrol_hours": 12.5}}, w)
    assert (got[7][0], got[8][0]) == (100.0, 25.0)


def test_the_score_is_the_weighted_mean_of_the_points_of_metrics_with_a_value() -> None:
    s = scheme("department", on_time_handle_rate=30, rework_rate=20, return_rate=15,
               satisfaction_rate=20, reply_rate=15)
    values = {
        # all five: (30×90 + 20×95 + 15×98 + 20×80 + 15×60) ÷ 100 = 85.7
        1: {"on_time_handle_rate": 90.0, "rework_rate": 5.0, "return_rate": 2.0,
            "satisfaction_rate": 80.0, "reply_rate": 60.0},
        # no ratings and no reply owed: (30×90 + 20×95 + 15×98) ÷ 65 = 93.38…
        2: {"on_time_handle_rate": 90.0, "rework_rate": 5.0, "return_rate": 2.0,
            "satisfaction_rate": None, "reply_rate": None},
        # nothing valued at all: no score
        3: {"on_time_handle_rate": None, "rework_rate": None, "return_rate": None,
            "satisfaction_rate": None, "reply_rate": None},
    }
    got = score(values, s)
    assert got[1][0] == 85.7
    assert got[2][0] == round((30 * 90 + 20 * 95 + 15 * 98) / 65, 2) == 93.38
    assert got[2][1]["satisfaction_rate"] is None
    assert got[3] == (None, dict.fromkeys(values[3]))


def test_ties_share_a_rank_and_peers_without_a_score_come_last() -> None:
    items = [Ranked(0, k, label, sc, {}, {}) for k, label, sc in
             [(1, "乙", 80.0), (2, "甲", 90.0), (3, "丙", 90.0), (4, "丁", None),
              (5, "戊", 70.0), (6, "己", None)]]
    ranked = assign_ranks(items)
    assert [(r.label, r.rank) for r in ranked] == [
        ("丙", 1), ("甲", 1), ("乙", 3), ("戊", 4), ("丁", 5), ("己", 5)]


def ranked_list(scores: list[float | None]) -> list[Ranked]:
    return assign_ranks([Ranked(0, i + 1, f"第{i + 1:03d}", s, {}, {})
                         for i, s in enumerate(scores)])


def test_red_and_black_take_n_each_and_never_overlap_when_few() -> None:
    many = ranked_list([float(s) for s in range(30)])
    red, black = red_black(many, 5)
    assert [r.score for r in red] == [29, 28, 27, 26, 25]
    assert [r.score for r in black] == [0, 1, 2, 3, 4]  # the worst first
    few = ranked_list([50.0, 70.0, 60.0, None, 40.0, 80.0])
    red, black = red_black(few, 10)
    assert [r.score for r in red] == [80, 70, 60]
    assert [r.score for r in black] == [40, 50]  # no score: on neither list
    assert red_black(ranked_list([55.0]), 10) == (ranked_list([55.0]), [])
    assert red_black([], 10) == ([], [])


@given(st.lists(st.one_of(st.none(), st.floats(0, 100).map(lambda x: round(x, 2))),
                max_size=40), st.integers(1, 15))
def test_the_lists_are_disjoint_and_red_is_never_below_black(
        scores: list[float | None], n: int) -> None:
    red, black = red_black(ranked_list(scores), n)
    assert len(red) <= n and len(black) <= n
    assert not {r.key for r in red} & {r.key for r in black}
    assert all(r.score is not None for r in red + black)
    if red and black:
        assert min(r.score for r in red) >= max(r.score for r in black)  # type: ignore[type-var]


values_st = st.dictionaries(
    st.integers(1, 50),
    st.fixed_dictionaries({
        "valid_rate": st.one_of(st.none(), st.floats(0, 100)),
        "visit_people": st.integers(0, 10_000),
        "patrol_hours": st.floats(0, 500),
        "building_coverage": st.one_of(st.none(), st.floats(0, 100)),
        "opinions": st.integers(0, 300),
        "proxy_items": st.integers(0, 100),
    }), min_size=1, max_size=20)


@given(values_st)
def test_scores_and_points_stay_between_0_and_100(values: dict) -> None:  # type: ignore[type-arg]
    rows = default_rows()
    s = scheme("worker", **{w["metric"]: w["weight"]
                            for w in next(r for r in rows if r["dim"] == "worker")["weights"]})
    for sc, points in score(values, s).values():
        assert sc is not None and 0 <= sc <= 100
        assert all(p is None or 0 <= p <= 100 for p in points.values())


def test_a_scheme_is_checked_against_the_metrics_of_its_dim() -> None:
    assert clean_weights("grid", [{"metric": "visit_people", "weight": 2}]) == [
        {"metric": "visit_people", "weight": 2}]
    cases = [
        ("grid", [], "weights", "empty"),
        ("grid", [{"metric": "nope", "weight": 1}], "weights.0.metric", "unknown_metric"),
        ("department", [{"metric": "visit_people", "weight": 1}], "weights.0.metric",
         "metric_not_in_dim"),
        ("grid", [{"metric": "opinions", "weight": 1}, {"metric": "opinions", "weight": 2}],
         "weights.1.metric", "duplicate"),
        ("grid", [{"metric": "opinions", "weight": 0}], "weights.0.weight", "bad_weight"),
        ("grid", [{"metric": "opinions", "weight": -3}], "weights.0.weight", "bad_weight"),
        ("grid", [{"metric": "opinions", "weight": "5"}], "weights.0.weight", "bad_weight"),
        ("grid", [{"metric": "opinions", "weight": float("nan")}], "weights.0.weight",
         "bad_weight"),
        ("category", [{"metric": "reported", "weight": 1}], "dim", "invalid"),
    ]
    for dim, weights, field, code in cases:
        with pytest.raises(SchemeError) as e:
            clean_weights(dim, weights)
        assert (e.value.field, e.value.code) == (field, code), (dim, weights)


def test_the_default_schemes_are_valid_and_weigh_100() -> None:
    rows = default_rows()
    assert sorted(r["dim"] for r in rows) == ["department", "grid", "worker"]
    for r in rows:
        clean_weights(r["dim"], r["weights"])
        assert sum(w["weight"] for w in r["weights"]) == 100


def test_the_ranking_table_has_points_beside_each_value() -> None:
    s = scheme("department", satisfaction_rate=60, rework_rate=40)
    ranked = [Ranked(1, 3, "水务局", 88.0, {"satisfaction_rate": 90.0, "rework_rate": 15.0},
                     {"satisfaction_rate": 90.0, "rework_rate": 85.0})]
    t = ranking_table(ranked, s)
    assert t.headers == ["名次", "名称", "综合得分", "满意率", "满意率 得分", "返工率",
                         "返工率 得分"]
    assert t.rows == [[1, "水务局", 88.0, 90.0, 90.0, 15.0, 85.0]]


# -- over the demo city -------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db

SPAN = (timezone.localdate() - dt.timedelta(days=90), timezone.localdate())


@pytestmark_db
def test_the_demo_has_the_default_schemes_and_seeding_again_adds_nothing() -> None:
    assert {d: default_scheme(d).code for d in ("department", "grid", "worker")} == {  # type: ignore[union-attr]
        "department": "department-default", "grid": "grid-default",
        "worker": "worker-default"}
    assert do_seed_schemes() == []
    EvaluationScheme.objects.filter(code="grid-default").update(weights=[
        {"metric": "opinions", "weight": 1}])
    EvaluationScheme.objects.filter(code="worker-default").delete()
    assert do_seed_schemes() == ["worker-default"]  # the missing one only
    assert EvaluationScheme.objects.get(code="grid-default").weights == [
        {"metric": "opinions", "weight": 1}]  # a city's edit stays


@pytestmark_db
def test_only_the_centers_admin_saves_a_scheme_and_it_is_audited(django_user_model) -> None:  # type: ignore[no-untyped-def]
    station = django_user_model.objects.get(username="station")
    admin = django_user_model.objects.get(username="center_admin")
    data = {"code": "grid-visits", "name": "走访考核", "dim": "grid",
            "weights": [{"metric": "visit_people", "weight": 1}]}
    with pytest.raises(PermissionDenied):
        check_save_scheme(station, **data)
    with pytest.raises(SchemeError) as e:
        check_save_scheme(admin, **{**data, "code": "空格 code"})
    assert e.value.field == "code"
    with pytest.raises(SchemeError) as e:
        check_save_scheme(admin, **{**data, "code": "grid-default", "dim": "worker"})
    assert e.value.field == "dim"
    clean = check_save_scheme(admin, **data)
    saved = do_save_scheme(actor=admin, **{**data, "weights": clean})
    assert saved.weights == [{"metric": "visit_people", "weight": 1}]
    entry = AuditEntry.objects.filter(action="analytics.scheme_saved").latest("id")
    assert (entry.actor_id, entry.object_id) == (admin.pk, "grid-visits")
    assert entry.detail["before"] is None and entry.detail["after"]["weights"] == clean


@pytestmark_db
def test_department_staff_rank_every_department_but_nothing_else() -> None:
    user = get_user_model().objects.get(username="department")
    scope = analytics_scope(user)
    assert scope.department_only
    everyone = rank(Scope(None, None), dim="department", since=SPAN[0], until=SPAN[1])
    theirs = rank(scope, dim="department", since=SPAN[0], until=SPAN[1])
    assert len(theirs) > 1
    assert [(r.key, r.score) for r in theirs] == [(r.key, r.score) for r in everyone]
    assert 0 not in {r.key for r in theirs}  # "not dispatched" is not a department
    names = set(Department.objects.filter(pk__in=[r.key for r in theirs])
                .values_list("name", flat=True))
    assert {r.label for r in theirs} == names
    for dim in ("grid", "worker"):
        with pytest.raises(PermissionDenied):
            rank(scope, dim=dim, since=SPAN[0], until=SPAN[1])  # type: ignore[arg-type]


@pytestmark_db
def test_a_ranking_follows_its_scheme_and_ranks_by_score() -> None:
    ranked = rank(Scope(None, None), dim="grid", since=SPAN[0], until=SPAN[1], level=2)
    assert len(ranked) > 10
    scored = [r for r in ranked if r.score is not None]
    assert [r.score for r in scored] == sorted((r.score for r in scored), reverse=True)
    assert set(ranked[0].points) == {w["metric"] for w in default_scheme("grid").weights}  # type: ignore[union-attr]
    only_visits = scheme("grid", visit_people=1)
    by_visits = rank(Scope(None, None), dim="grid", since=SPAN[0], until=SPAN[1], level=2,
                     scheme=only_visits)
    top = max(r.values["visit_people"] or 0 for r in by_visits)
    assert by_visits[0].values["visit_people"] == top and by_visits[0].score == 100.0
    with pytest.raises(ValueError):
        rank(Scope(None, None), dim="worker", since=SPAN[0], until=SPAN[1],
             scheme=only_visits)


@pytestmark_db
def test_an_idle_grid_worker_is_ranked_on_zeros_and_reaches_the_black_list() -> None:
    from wangge.org.actions import do_assign_role
    from wangge.org.models import Employment, Person, Role
    from wangge.registry.models import Building
    from wangge.territory.models import Grid

    basic = Grid.objects.filter(level=4).order_by("path").first()
    assert basic is not None
    idle = Person.objects.create(name="测试闲置网格员")
    do_assign_role(idle, Role.GRID_WORKER, basic, employment=Employment.PART_TIME,
                   started_on=SPAN[0])
    ranked = rank(Scope(None, None), dim="worker", since=SPAN[0], until=SPAN[1])
    mine = next(r for r in ranked if r.key == idle.pk)  # ranked although nothing counted
    assert mine.score == 0.0 and mine.values["visit_people"] == 0
    assert Building.objects.filter(grid=basic).exists()
    assert mine.values["building_coverage"] == 0.0  # their grid's buildings, none passed
    assert mine.rank == max(r.rank for r in ranked if r.score is not None)
    _red, black = red_black(ranked)
    assert idle.pk in {r.key for r in black}
    # a grid worker who starts after the period is not on its ranking
    late = Person.objects.create(name="测试新到网格员")
    do_assign_role(late, Role.GRID_WORKER, basic, employment=Employment.PART_TIME,
                   started_on=SPAN[1] + dt.timedelta(days=1))
    again = rank(Scope(None, None), dim="worker", since=SPAN[0], until=SPAN[1])
    assert late.pk not in {r.key for r in again} and idle.pk in {r.key for r in again}
    # within a town, the peers are that town's grid workers only
    town = basic.parent.parent  # type: ignore[union-attr]
    local = rank(Scope(None, None), dim="worker", since=SPAN[0], until=SPAN[1], within=town)
    assert idle.pk in {r.key for r in local} and len(local) < len(ranked)


# -- the fast path (ranking.board_of) equals the reference (evaluate, score, assign_ranks) --

SCHEMES = [
    scheme("grid", on_time_close_rate=30, satisfaction_rate=20, rework_rate=15,
           valid_rate=15, visit_people=10, opinions=10),
    scheme("worker", valid_rate=25, visit_people=20, patrol_hours=20,
           building_coverage=15, opinions=10, proxy_items=10),
    scheme("department", on_time_handle_rate=30, returned=20, overdue=10,
           avg_handling_hours=25, reply_rate=15),
]
LABELS = ["甲", "乙", "丙", "丁"]  # few: ties of score and of label


def reference(counts: dict[int, dict[str, int]], labels: dict[int, str],
              s: EvaluationScheme) -> list[Ranked]:
    from wangge.analytics.metrics import evaluate

    codes = [c for c, _w in weights_of(s)]
    values = {k: evaluate(c, s.dim) for k, c in counts.items()}  # type: ignore[arg-type]
    scored = score(values, s)
    return assign_ranks([Ranked(0, k, labels[k], scored[k][0],
                                {c: values[k][c] for c in codes}, scored[k][1])
                         for k in counts])


@given(st.sampled_from(SCHEMES), st.dictionaries(
    st.integers(1, 200),
    st.tuples(st.sampled_from(LABELS), st.lists(st.integers(0, 4), min_size=24,
                                               max_size=24)),
    max_size=60), st.integers(0, 70), st.integers(0, 30), st.integers(1, 12))
def test_the_board_ranks_exactly_as_the_reference_score(
        s: EvaluationScheme, peers: dict[int, tuple[str, list[int]]], offset: int,
        limit: int, n: int) -> None:
    bases = scheme_bases(s)
    counts = {k: {b: v for b, v in zip(bases, vals, strict=False) if v}
              for k, (_l, vals) in peers.items()}
    labels = {k: label for k, (label, _v) in peers.items()}
    asked: list[list[int]] = []

    def labeller(keys: list[int]) -> dict[int, str]:
        asked.append(keys)
        return {k: labels[k] for k in keys}

    rows = [(k, *(c.get(b, 0) for b in bases)) for k, c in counts.items()]
    want = reference(counts, labels, s)
    b = board_of(rows, bases, s.dim, s, labeller)  # type: ignore[arg-type]
    assert b.total == len(want)
    assert b.rows(offset, limit) == want[offset:offset + limit]
    assert b.red_black(n) == red_black(want, n)
    assert b.rows() == want
    for r in want[:3]:
        assert b.position(r.key) == want.index(r)


def test_a_page_labels_its_rows_and_their_ties_only() -> None:
    s = scheme("grid", visit_people=1)
    rows = [(k, k // 10) for k in range(1, 1001)]  # scores tie in tens
    asked: list[int] = []

    def labeller(keys: list[int]) -> dict[int, str]:
        asked.extend(keys)
        return {k: f"网格{k:04d}" for k in keys}

    b = board_of(rows, ["visit_people"], "grid", s, labeller)
    page = b.rows(5, 3)
    assert [r.key for r in page] == [994, 995, 996]  # after 1000 alone at the top
    assert [r.rank for r in page] == [2, 2, 2]
    assert sorted(asked) == list(range(990, 1000))  # the tied group, not 1,000 names


@pytestmark_db
@pytest.mark.parametrize(("dim", "level"), [("grid", 2), ("grid", 4), ("worker", None),
                                            ("department", None)])
def test_rank_equals_the_reference_over_the_demo(dim: str, level: int | None) -> None:
    from wangge.analytics import figures as fig
    from wangge.analytics.figures import Query

    s = default_scheme(dim)  # type: ignore[arg-type]
    assert s is not None
    q = Query(by=dim, since=SPAN[0], until=SPAN[1], level=level)  # type: ignore[arg-type]
    counts = {k: c for k, c in fig.figures(Scope(None, None), q).items() if k}
    for key in fig.peer_keys(Scope(None, None), q) - counts.keys() - {0}:
        counts[key] = {}
    want = reference(counts, fig.labels(dim, counts), s)  # type: ignore[arg-type]
    got = rank(Scope(None, None), dim=dim, since=SPAN[0], until=SPAN[1],  # type: ignore[arg-type]
               level=level)
    assert got == want and len(got) > 3


@pytestmark_db
def test_many_labels_are_the_labels() -> None:
    from wangge.analytics import figures as fig
    from wangge.territory.models import Grid

    keys = [0, *Grid.objects.values_list("id", flat=True), *range(10**9, 10**9 + 1000)]
    assert len(keys) > 1000
    assert fig.many_labels("grid", keys) == fig.labels("grid", keys)
