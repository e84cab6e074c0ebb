"""The mapping tables shipped for the demo city (integration/mappings/*.json) and loading a
table into an adapter: every urban-management small class has a 数字城管 部件/事件 code,
every small class but the confidential ones a 12345 事项分类 and 诉求类型; a table with a
bad row is refused whole, naming the row, with nothing written."""

from __future__ import annotations

import secrets

import pytest

from wangge.cases.models import CaseCategory
from wangge.core.models import AuditEntry
from wangge.integration.actions.external import AdapterError, do_load_mappings, do_save_adapter
from wangge.integration.mappings import main_class_name, shipped_rows
from wangge.integration.models import Adapter, CategoryMapping
from wangge.org.models import Department

pytestmark = pytest.mark.django_db

#: the large classes 数字城管 takes (urban management: the city's 城管 classes)
URBAN_MANAGEMENT = {"01", "02", "03", "05", "06", "07", "08"}
APPEAL_TYPES = {"投诉", "求助", "咨询", "举报", "建议"}


def adapter(kind: str) -> Adapter:
    return do_save_adapter(system=Department.objects.get(code=kind), kind=kind,
                           endpoint="http://127.0.0.1:9", secret=secrets.token_urlsafe(16))


def small_classes(**filters: object) -> dict[str, CaseCategory]:
    return {c.code: c for c in CaseCategory.objects.filter(parent__isnull=False, **filters)}


def test_every_urban_management_small_class_has_a_city_management_code() -> None:
    rows = {r["category"]: r for r in shipped_rows("city_management")}
    urban = small_classes(parent__code__in=URBAN_MANAGEMENT)
    assert len(urban) >= 12
    assert set(urban) <= set(rows), f"unmapped: {sorted(set(urban) - set(rows))}"
    for code, row in rows.items():
        assert row["their_kind"] in ("部件", "事件"), code
        # CJ/T 214: a 小类 code is its 大类's code and two digits
        assert len(row["their_code"]) == 4 and row["their_code"][:2] == row[
            "their_parent_code"], code
        assert main_class_name("city_management", row["their_kind"], row["their_parent_code"])
        assert row["their_name"].strip(), code
    # the same 大类 code names different classes for 部件 and 事件
    assert main_class_name("city_management", "部件", "01") == "公用设施"
    assert main_class_name("city_management", "事件", "01") == "市容环境"
    assert main_class_name("city_management", "事件", "99") == ""


def test_every_public_small_class_has_a_12345_class_and_appeal_type() -> None:
    rows = {r["category"]: r for r in shipped_rows("hotline_12345")}
    public = small_classes(confidential=False)
    assert set(public) <= set(rows), f"unmapped: {sorted(set(public) - set(rows))}"
    secret = small_classes(confidential=True)
    assert secret and not set(secret) & set(rows), "a confidential class goes to no hotline"
    for code, row in rows.items():
        assert row["their_kind"] in APPEAL_TYPES, code
        assert row["their_code"].isdigit() and row["their_code"].startswith(
            row["their_parent_code"]), code
        assert main_class_name("hotline_12345", "", row["their_parent_code"]), code
    assert rows["1001"]["their_kind"] == "求助" and rows["1501"]["their_kind"] == "咨询"


@pytest.mark.parametrize("kind", ["city_management", "hotline_12345"])
def test_loading_a_table_maps_every_row_once_and_again_changes_nothing(kind: str) -> None:
    target = adapter(kind)
    rows = shipped_rows(kind)
    assert do_load_mappings(target, rows) == len(rows)
    stored = {m.category.code: m for m in CategoryMapping.objects.filter(
        adapter=target).select_related("category")}
    assert set(stored) == {r["category"] for r in rows}
    for row in rows:
        m = stored[row["category"]]
        assert (m.their_code, m.their_parent_code, m.their_name, m.their_kind) == (
            row["their_code"], row["their_parent_code"], row["their_name"], row["their_kind"])
    audited = AuditEntry.objects.filter(action="adapter.mapping", object_id=str(target.pk))
    assert audited.count() == len(rows)

    # a city's dispatcher fixed one row; loading the table again puts the shipped code back
    # and adds no second row for any class
    first = stored[rows[0]["category"]]
    CategoryMapping.objects.filter(pk=first.pk).update(their_code="9999")
    assert do_load_mappings(target, rows) == len(rows)
    assert CategoryMapping.objects.filter(adapter=target).count() == len(rows)
    first.refresh_from_db()
    assert first.their_code == rows[0]["their_code"]


@pytest.mark.parametrize(("bad", "field", "says"), [
    ({"category": "9999", "their_code": "0101"}, "category", "no category"),
    ({"category": "06", "their_code": "01"}, "category", "large class"),
    ({"category": "1301", "their_code": "  "}, "their_code", "required"),
    ({"category": "0101", "their_code": "0102"}, "category", "twice"),
])
def test_a_table_with_a_bad_row_is_refused_whole(bad: dict[str, str], field: str,
                                                  says: str) -> None:
    target = adapter("city_management")
    rows = shipped_rows("city_management")
    rows.append(bad)
    with pytest.raises(AdapterError) as refused:
        do_load_mappings(target, rows)
    assert refused.value.field == field and says in str(refused.value)
    assert f"row {len(rows)}" in str(refused.value)
    assert not CategoryMapping.objects.filter(adapter=target).exists()
