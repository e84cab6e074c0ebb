"""The catalogue's writes: checking items, importing (all or nothing, fast, no version for
an unchanged item), drafts, publishing with history, withdrawing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.services.actions.catalogue import (
    clean_item,
    do_discard_draft,
    do_import_catalogue,
    do_publish,
    do_reactivate_item,
    do_save_draft,
    do_withdraw_item,
    version_row,
)
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import Application, ItemVersion, ServiceItem
from wangge.services.tests.catalogue_helpers import item_row, rows

pytestmark = pytest.mark.django_db


def user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=name)


# --- clean_item -------------------------------------------------------------------------


def test_clean_item_fills_defaults_and_strips() -> None:
    row = {"code": " X-1 ", "name": " 高龄津贴申领 ", "type": "benefit",
           "department": "civil-affairs", "legal_days": 10, "promised_days": 3}
    c = clean_item(row)
    assert c["code"] == "X-1" and c["name"] == "高龄津贴申领"
    assert c["fee"] == "不收费" and c["in_person_times"] == 1 and c["materials"] == []


@pytest.mark.parametrize(("over", "field"), [
    ({"type": "licence"}, "type"),
    ({"level": "province"}, "level"),
    ({"department": "no-such-dept"}, "department"),
    ({"promised_days": 21}, "promised_days"),
    ({"legal_days": -1}, "legal_days"),
    ({"legal_days": "20"}, "legal_days"),
    ({"in_person_times": 2}, "in_person_times"),
    ({"proxy_eligible": "yes"}, "proxy_eligible"),
    ({"events": ["elderly", "holiday"]}, "events.1"),
    ({"name": ""}, "name"),
    ({"name": "长" * 201}, "name"),
    ({"code": "含中文"}, "code"),
    ({"colour": "red"}, "colour"),
    ({"faq": [{"q": "问", "a": ""}]}, "faq.0.a"),
    ({"materials": [{"key": "ID Card", "name": "身份证"}]}, "materials.0.key"),
    ({"materials": [{"key": "a", "name": "甲"}, {"key": "a", "name": "乙"}]}, "materials.1.key"),
    ({"materials": [{"key": "a", "name": "甲", "form": "scan"}]}, "materials.0.form"),
    ({"materials": [{"key": "a", "name": "甲", "count": 0}]}, "materials.0.count"),
    ({"materials": [{"key": "a"}]}, "materials.0.name"),
])
def test_clean_item_names_the_field(over: dict, field: str) -> None:
    with pytest.raises(ServiceError) as e:
        clean_item(item_row(**over))
    assert e.value.field == field


# --- import -----------------------------------------------------------------------------


def test_import_creates_published_items_with_denormalised_fields() -> None:
    report = do_import_catalogue([item_row("T-1"), item_row("T-2", events=["elderly",
                                                                           "relief"])],
                                 user("center_admin"))
    assert report.ok and report.created == ["T-1", "T-2"]
    item = ServiceItem.objects.select_related("current", "department").get(code="T-2")
    assert item.current.state == ItemVersion.State.PUBLISHED and item.current.number == 1
    assert item.events_text == "|elderly|relief|" and item.proxy_eligible
    assert item.department.code == "civil-affairs"
    assert version_row(item.current) == clean_item(item_row("T-2",
                                                            events=["elderly", "relief"]))
    assert OutboxMessage.objects.filter(topic="services.item_published",
                                        payload__code="T-1").count() == 1
    assert AuditEntry.objects.filter(action="services.catalogue_imported").exists()


def test_a_bad_row_writes_nothing_and_every_error_is_listed() -> None:
    batch = rows(5)
    batch[1]["department"] = "nowhere"
    batch[3]["materials"][0]["form"] = "scan"
    batch[4]["code"] = batch[0]["code"]
    before = (ServiceItem.objects.count(), ItemVersion.objects.count(),
              OutboxMessage.objects.count())
    report = do_import_catalogue(batch, None)
    assert not report.ok and report.created == []
    assert [(e.row, e.field) for e in report.errors] == [
        (1, "items.1.department"), (3, "items.3.materials.0.form"), (4, "items.4.code")]
    assert (ServiceItem.objects.count(), ItemVersion.objects.count(),
            OutboxMessage.objects.count()) == before


def test_reimport_unchanged_makes_no_version_and_a_change_supersedes() -> None:
    do_import_catalogue(rows(3), None)
    again = do_import_catalogue(rows(3), None)
    assert again.unchanged == ["T-0000", "T-0001", "T-0002"] and not again.updated
    assert ItemVersion.objects.filter(item__code="T-0001").count() == 1

    changed = rows(3)
    changed[1]["promised_days"] = 2
    report = do_import_catalogue(changed, None)
    assert report.updated == ["T-0001"] and len(report.unchanged) == 2
    versions = list(ItemVersion.objects.filter(item__code="T-0001").order_by("number"))
    assert [(v.number, v.state) for v in versions] == [(1, "superseded"), (2, "published")]
    assert ServiceItem.objects.get(code="T-0001").current_id == versions[1].pk


def test_import_as_drafts_leaves_the_published_guide() -> None:
    do_import_catalogue(rows(2), None)
    changed = rows(2)
    changed[0]["name"] = "改名后的事项"
    report = do_import_catalogue(changed, None, publish=False)
    assert report.updated == ["T-0000"]
    item = ServiceItem.objects.select_related("current").get(code="T-0000")
    assert item.name == "测试事项0号" and item.current.name == "测试事项0号"
    draft = item.versions.get(state="draft")
    assert draft.name == "改名后的事项"
    # a second draft import edits the same draft
    changed[0]["name"] = "再次改名"
    do_import_catalogue(changed, None, publish=False)
    assert item.versions.filter(state="draft").get().name == "再次改名"


def test_import_by_a_non_editor_is_refused() -> None:
    with pytest.raises(IllegalStep):
        do_import_catalogue(rows(1), user("gridworker"))
    assert not ServiceItem.objects.filter(code="T-0000").exists()


def test_import_of_a_whole_catalogue_publishes_every_item() -> None:
    # speed is measured by benchmarks/services_search.py, not here
    report = do_import_catalogue(rows(664, prefix="BULK"), None)
    assert report.ok and len(report.created) == 664
    assert ServiceItem.objects.filter(code__startswith="BULK-", current__isnull=False).count() \
        == 664


# --- drafts and publishing --------------------------------------------------------------


def test_publish_keeps_the_old_version_for_its_applications() -> None:
    admin = user("center_admin")
    do_import_catalogue([item_row("T-9")], admin)
    item = ServiceItem.objects.select_related("current").get(code="T-9")
    old = item.current
    app = Application.objects.create(no="YS-TEST-1", item=item, version=old,
                                     department=item.department, channel="public",
                                     applicant_name="张三")
    materials = [*old.materials, {"key": "income", "name": "家庭收入证明", "form": "original",
                                  "count": 1, "required": True, "condition": "", "note": ""}]
    draft = do_save_draft(admin, "T-9", {"materials": materials, "change_note": "增加收入证明"})
    assert draft.state == "draft" and draft.number == 2
    # one draft per item: saving again edits it
    assert do_save_draft(admin, "T-9", {"promised_days": 3}).pk == draft.pk
    published = do_publish(admin, draft)
    old.refresh_from_db()
    item.refresh_from_db()
    assert old.state == "superseded" and published.state == "published"
    assert item.current_id == published.pk and published.promised_days == 3
    assert published.change_note == "增加收入证明"
    app.refresh_from_db()
    assert [m["key"] for m in app.version.materials] == ["id_card", "photo", "hukou"]
    assert [m["key"] for m in item.current.materials][-1] == "income"
    with pytest.raises(IllegalStep):
        do_publish(admin, published)


def test_draft_is_checked_whole_and_names_the_field() -> None:
    do_import_catalogue([item_row("T-8")], None)
    with pytest.raises(ServiceError) as e:
        do_save_draft(user("center_admin"), "T-8", {"promised_days": 99})
    assert e.value.field == "promised_days"
    assert not ItemVersion.objects.filter(item__code="T-8", state="draft").exists()
    with pytest.raises(ServiceError) as e:
        do_save_draft(user("center_admin"), "NOPE", {"name": "x"})
    assert e.value.field == "item_code"


def test_drafts_and_publishing_are_for_editors_only() -> None:
    do_import_catalogue([item_row("T-7")], None)
    with pytest.raises(IllegalStep):
        do_save_draft(user("civil_affairs"), "T-7", {"name": "改"})
    draft = do_save_draft(user("center_admin"), "T-7", {"name": "改"})
    with pytest.raises(IllegalStep):
        do_publish(user("gridworker"), draft)
    do_discard_draft(user("center_admin"), draft)
    assert not ItemVersion.objects.filter(pk=draft.pk).exists()


def test_withdraw_and_reactivate() -> None:
    from wangge.services.access import visible_items
    do_import_catalogue([item_row("T-6")], None)
    admin = user("center_admin")
    with pytest.raises(ServiceError) as e:
        do_withdraw_item(admin, "T-6", "")
    assert e.value.field == "reason"
    do_withdraw_item(admin, "T-6", "职能调整")
    assert not visible_items().filter(code="T-6").exists()
    with pytest.raises(IllegalStep):
        do_withdraw_item(admin, "T-6", "again")
    do_reactivate_item(admin, "T-6")
    assert visible_items().filter(code="T-6").exists()
    assert OutboxMessage.objects.filter(topic="services.item_withdrawn",
                                        payload__code="T-6").exists()


# --- the console ----------------------------------------------------------------------------


def _form(client, code: str) -> dict:  # type: ignore[no-untyped-def]
    """The edit form's fields as the browser would send them back unchanged."""
    from wangge.services.models import ServiceItem as Item
    item = Item.objects.select_related("current").get(code=code)
    v = item.current
    data: dict = {k: getattr(v, k) for k in ("name", "type", "level", "legal_basis",
                                             "conditions", "fee", "place", "hours", "phone",
                                             "legal_days", "promised_days", "in_person_times",
                                             "prereview_days")}
    data["department"] = v.department.code
    data["events"] = list(v.events)
    data["alias"] = list(v.aliases)
    data["step"] = list(v.steps)
    for k in ("key", "name", "form", "count", "condition", "note"):
        data[f"m_{k}"] = [m[k] for m in v.materials]
    data["m_required"] = ["yes" if m["required"] else "no" for m in v.materials]
    data["faq_q"] = [qa["q"] for qa in v.faq]
    data["faq_a"] = [qa["a"] for qa in v.faq]
    if v.proxy_eligible:
        data["proxy_eligible"] = "on"
    if v.online_prereview:
        data["online_prereview"] = "on"
    return data


def test_console_edit_publish_and_diff(login_as) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue([item_row("C-1")], None)
    admin = login_as("center_admin")
    r = admin.get("/console/services/catalogue/C-1/edit/")
    assert r.status_code == 200 and "居民身份证" in r.content.decode()
    data = _form(admin, "C-1")
    data["m_key"].append("income")
    data["m_name"].append("家庭收入证明")
    data["m_form"].append("original")
    data["m_count"].append("1")
    data["m_required"].append("yes")
    data["m_condition"].append("")
    data["m_note"].append("")
    data["alias"] = ["老年证", ""]          # a cleared row is dropped
    data["change_note"] = "增加收入证明"
    r = admin.post("/console/services/catalogue/C-1/edit/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    draft = ItemVersion.objects.get(item__code="C-1", state="draft")
    assert draft.aliases == ["老年证"] and draft.materials[-1]["key"] == "income"
    # not published yet: the service hall still shows v1
    assert ServiceItem.objects.get(code="C-1").current.number == 1
    r = admin.post("/console/services/catalogue/C-1/publish/")
    assert r.status_code == 302
    page = admin.get("/console/services/catalogue/C-1/?v=2").content.decode()
    assert "第2版相对第1版的修改" in page and "家庭收入证明" in page and "增加收入证明" in page
    assert "敬老证" in page  # the removed alias shows as deleted text
    assert admin.get("/console/services/catalogue/C-1/?v=1").status_code == 200
    assert admin.get("/console/services/catalogue/C-1/?v=9").status_code == 404


def test_console_edit_error_names_the_field_and_saves_nothing(login_as) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue([item_row("C-2")], None)
    admin = login_as("center_admin")
    data = _form(admin, "C-2")
    data["promised_days"] = "30"
    r = admin.post("/console/services/catalogue/C-2/edit/", data)
    assert r.status_code == 422
    body = r.content.decode()
    assert "承诺办结时限" in body and "承诺时限不能超过法定时限" in body
    assert 'value="30"' in body  # what was typed is kept
    assert not ItemVersion.objects.filter(item__code="C-2", state="draft").exists()
    # "more rows" without JavaScript: blank rows, nothing saved
    data["promised_days"] = "5"
    data["more"] = "materials"
    r = admin.post("/console/services/catalogue/C-2/edit/", data)
    assert r.status_code == 200 and r.content.decode().count('name="m_key"') == 3 + 4 + 1
    assert not ItemVersion.objects.filter(item__code="C-2", state="draft").exists()


@pytest.mark.parametrize("who", ["gridworker", "civil_affairs", "leader"])
def test_non_editors_read_but_never_reach_edit_pages(login_as, who: str) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue([item_row("C-3")], None)
    admin = user("center_admin")
    do_save_draft(admin, "C-3", {"name": "草稿里的新名称"})
    c = login_as(who)
    r = c.get("/console/services/catalogue/")
    assert r.status_code == 200
    page = c.get("/console/services/catalogue/C-3/").content.decode()
    assert "老年人优待证" in page and "草稿里的新名称" not in page
    assert c.get("/console/services/catalogue/C-3/?v=2").status_code == 404
    for url in ("C-3/edit/", "import/"):
        assert c.get(f"/console/services/catalogue/{url}").status_code == 404
    for url in ("C-3/edit/", "C-3/publish/", "C-3/discard/", "C-3/active/", "import/"):
        assert c.post(f"/console/services/catalogue/{url}", {"reason": "x"}).status_code == 404
    assert ItemVersion.objects.get(item__code="C-3", state="draft").name == "草稿里的新名称"
    assert ServiceItem.objects.get(code="C-3").active


def test_console_list_filters_and_counts(login_as) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue(rows(26, prefix="CL"), None)
    c = login_as("center_admin")
    page = c.get("/console/services/catalogue/", {"q": "CL-", "proxy": "yes"}).content.decode()
    assert '<dd id="count-total">2</dd>' in page  # CL-0000 and CL-0013
    page = c.get("/console/services/catalogue/", {"q": "CL-", "department": "health"}
                 ).content.decode()
    assert '<dd id="count-total">7</dd>' in page
    assert c.get("/console/services/catalogue/", {"page": "99"}).status_code == 200
    assert c.get("/console/services/catalogue/").status_code == 200


def test_console_withdraw_needs_a_reason(login_as) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue([item_row("C-4")], None)
    c = login_as("center_admin")
    c.post("/console/services/catalogue/C-4/active/", {"reason": ""})
    assert ServiceItem.objects.get(code="C-4").active
    c.post("/console/services/catalogue/C-4/active/", {"reason": "职能划转"})
    assert not ServiceItem.objects.get(code="C-4").active
    # the editor still finds it; the others no longer do
    assert c.get("/console/services/catalogue/C-4/").status_code == 200
    assert login_as("gridworker").get("/console/services/catalogue/C-4/").status_code == 404


def test_console_download_and_upload(login_as) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    do_import_catalogue(rows(2, prefix="UP"), None)
    c = login_as("center_admin")
    r = c.get("/console/services/catalogue/export/", {"format": "xlsx"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    r = c.get("/console/services/catalogue/export/", {"format": "json"})
    assert json.loads(r.content)["format"] == "wangge.services.catalogue"
    assert login_as("gridworker").get("/console/services/catalogue/export/",
                                      {"format": "json"}).status_code == 200
    changed = [item_row("UP-0000", name="改过的名称"), item_row("UP-NEW", level="moon")]
    r = c.post("/console/services/catalogue/import/", {"file": SimpleUploadedFile(
        "c.json", json.dumps(changed).encode(), "application/json"), "draft": "on"})
    assert r.status_code == 422 and "第2项 level" in r.content.decode()
    assert not ServiceItem.objects.filter(code="UP-NEW").exists()
    changed[1]["level"] = "town"
    r = c.post("/console/services/catalogue/import/", {"file": SimpleUploadedFile(
        "c.json", json.dumps(changed).encode(), "application/json"), "draft": "on"})
    assert r.status_code == 200 and "新增 1 项，更新 1 项" in r.content.decode()
    assert ItemVersion.objects.get(item__code="UP-0000", state="draft").name == "改过的名称"


def test_admin_only_looks(django_user_model, client) -> None:  # type: ignore[no-untyped-def]
    do_import_catalogue([item_row("AD-1")], None)
    root = django_user_model.objects.create_superuser("root_catalogue", password="x")
    client.force_login(root)
    item = ServiceItem.objects.get(code="AD-1")
    for model in ("serviceitem", "itemversion", "application", "proxyrequest", "synonym",
                  "materialfile"):
        assert client.get(f"/admin/services/{model}/").status_code == 200, model
        assert client.get(f"/admin/services/{model}/add/").status_code == 403, model
    page = client.get(f"/admin/services/serviceitem/{item.pk}/change/")
    assert page.status_code == 200 and "/console/services/catalogue/AD-1/" in \
        client.get("/admin/services/serviceitem/").content.decode()
    assert client.post(f"/admin/services/serviceitem/{item.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert ServiceItem.objects.filter(code="AD-1").exists()
