"""do_resident_report: the one intake of the public channels (QR page, /report/, Open311)."""

from __future__ import annotations

import pytest

from wangge.cases.actions import Contact, Where, do_resident_report
from wangge.cases.errors import CaseError
from wangge.cases.models import CaseCategory, PublicCategory, ResidentReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def drain() -> PublicCategory:
    small = CaseCategory.objects.filter(parent__isnull=False, confidential=False).first()
    return PublicCategory.objects.get_or_create(
        code="test-drain",
        defaults={"name": "下水道堵了", "group": "市政设施", "category": small})[0]


def test_a_report_with_a_phone_seals_it_and_a_replay_answers_the_first_case(drain, spot):
    lng, lat = spot
    first = do_resident_report(public_category=drain.code, description="井口冒水",
                               where=Where(lng=lng, lat=lat), source="web",
                               contact=Contact(name="测试居民", phone="13800001234"),
                               client_key="k-1")
    again = do_resident_report(public_category=drain.code, description="井口冒水",
                               where=Where(lng=lng, lat=lat), source="web", client_key="k-1")
    assert again.replayed and again.case.pk == first.case.pk
    row = ResidentReport.objects.get(case=first.case)
    assert row.phone_masked == "138****1234" and b"13800001234" not in bytes(row.phone_enc)
    assert not row.anonymous and first.case.channel == "resident"
    assert first.case.title == "居民反映：下水道堵了"


def test_no_location_names_lat_and_writes_nothing(drain):
    before = ResidentReport.objects.count()
    with pytest.raises(CaseError) as e:
        do_resident_report(public_category=drain.code, description="x", where=Where(),
                           source="web")
    assert e.value.field == "lat" and ResidentReport.objects.count() == before


# --- unhappy paths (the report slice) -------------------------------------------------


@pytest.fixture
def asks() -> PublicCategory:
    """A category with intake fields of each kind (what an Open311 definition lists)."""
    small = CaseCategory.objects.filter(parent__isnull=False, confidential=False).first()
    return PublicCategory.objects.get_or_create(code="test-asks", defaults={
        "name": "测试", "group": "测试", "category": small, "intake_fields": [
            {"code": "severity", "datatype": "singlevaluelist", "required": True,
             "description": "严重程度", "values": [{"key": "minor", "name": "轻微"},
                                                 {"key": "overflow", "name": "溢出"}]},
            {"code": "depth", "datatype": "number", "required": False, "description": "深度"},
            {"code": "kinds", "datatype": "multivaluelist", "required": False,
             "description": "种类", "values": [{"key": "a", "name": "甲"},
                                              {"key": "b", "name": "乙"}]},
        ]})[0]


def _report(category: PublicCategory, spot: tuple[float, float], **kw):  # type: ignore[no-untyped-def]
    from wangge.cases.actions import Extras

    attributes = kw.pop("attributes", {"severity": "minor"})
    args = {"public_category": category.code, "description": "x",
            "where": Where(lng=spot[0], lat=spot[1]), "source": "open311",
            "extras": Extras(attributes=attributes), **kw}
    return do_resident_report(**args)


@pytest.mark.parametrize(("attributes", "field"), [
    ({}, "attributes.severity"),  # required
    ({"severity": "huge"}, "attributes.severity"),  # not one of the keys
    ({"severity": "minor", "depth": "deep"}, "attributes.depth"),  # not a number
    ({"severity": "minor", "kinds": ["a", "z"]}, "attributes.kinds"),
    ({"severity": "minor", "colour": "red"}, "attributes.colour"),  # not asked for
])
def test_bad_attributes_name_their_code_and_write_nothing(asks, spot, attributes, field):
    before = ResidentReport.objects.count()
    with pytest.raises(CaseError) as e:
        _report(asks, spot, attributes=attributes)
    assert e.value.field == field and ResidentReport.objects.count() == before


def test_good_attributes_are_kept_typed(asks, spot):
    made = _report(asks, spot, attributes={"severity": ["overflow"], "depth": "0.5",
                                           "kinds": "a"})
    row = ResidentReport.objects.get(case=made.case)
    assert row.attributes == {"severity": "overflow", "depth": 0.5, "kinds": ["a"]}


@pytest.mark.parametrize(("contact", "field"), [
    (Contact(phone="123"), "contact.phone"),
    (Contact(name="长" * 51), "contact.name"),
    (Contact(email="not-an-address"), "contact.email"),
])
def test_contact_errors_name_the_field(asks, spot, contact, field):
    before = ResidentReport.objects.count()
    with pytest.raises(CaseError) as e:
        _report(asks, spot, contact=contact)
    assert e.value.field == field and ResidentReport.objects.count() == before


def test_an_empty_contact_is_anonymous_and_an_email_is_sealed(asks, spot):
    row = ResidentReport.objects.get(case=_report(asks, spot, contact=Contact()).case)
    assert row.anonymous
    made = _report(asks, spot, contact=Contact(email="resident@example.com"), client_key="e-1")
    row = ResidentReport.objects.get(case=made.case)
    assert row.email_masked == "r***@example.com" and not row.anonymous
    assert b"resident@example.com" not in bytes(row.email_enc)


def test_an_address_that_is_a_buildings_takes_its_place(asks):
    from wangge.registry.models import Building

    building = Building.objects.exclude(address="").select_related("grid").order_by("pk").first()
    made = _report(asks, (0, 0), where=Where(address=building.address))
    assert made.case.grid_id == building.grid_id
    assert (made.case.lng, made.case.lat) == (building.lng, building.lat)
    assert ResidentReport.objects.get(case=made.case).building_id == building.pk


def test_an_unknown_address_or_a_point_outside_names_lat(asks):
    for where in (Where(address="没有这个地址 999 号"), Where(lng=10.0, lat=10.0)):
        with pytest.raises(CaseError) as e:
            _report(asks, (0, 0), where=where)
        assert e.value.field == "lat"


def test_half_a_point_names_the_missing_half(asks):
    with pytest.raises(CaseError) as e:
        _report(asks, (0, 0), where=Where(lng=113.5))
    assert e.value.field == "lat"


def test_a_confidential_small_class_is_no_public_category(spot):
    secret = CaseCategory.objects.filter(parent__isnull=False, confidential=True).first()
    PublicCategory.objects.create(code="test-secret", name="x", group="x", category=secret)
    with pytest.raises(CaseError) as e:
        do_resident_report(public_category="test-secret", description="", source="web",
                           where=Where(lng=spot[0], lat=spot[1]))
    assert e.value.field == "public_category"


def test_the_nearby_offer_skips_what_the_public_may_not_see_and_finds_the_next(spot):
    """An older confidential (or finished) case of the same kind at the same spot must not
    hide the open public one next to it."""
    from wangge.cases.actions import nearby_open
    from wangge.cases.models import Case

    lng, lat = spot
    kind = PublicCategory.objects.get(code="drain-blocked")
    hidden = do_resident_report(public_category=kind.code, description="", source="web",
                                where=Where(lng=lng, lat=lat)).case
    Case.objects.filter(pk=hidden.pk).update(confidential=True)
    done = do_resident_report(public_category=kind.code, description="", source="web",
                              where=Where(lng=lng, lat=lat)).case
    Case.objects.filter(pk=done.pk).update(state="cancelled")
    open_one = do_resident_report(public_category=kind.code, description="", source="web",
                                  where=Where(lng=lng, lat=lat)).case
    found = nearby_open(kind.code, lng, lat)
    # the open one, or an older open public one the test city already had there
    assert found is not None and found.pk not in (hidden.pk, done.pk)
    assert not found.confidential
    assert found.state not in ("closed", "evaluated", "cancelled", "rejected")
    assert found.pk == open_one.pk or found.created_at < open_one.created_at
