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
