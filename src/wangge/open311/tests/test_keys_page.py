"""/console/open311/keys/: the center's administrators see every system's API key with its
state (never a person's own token), create one for a system code (the secret shown once, then never
again) and revoke one (audited, refused at once by Open311); nobody else gets in."""

from __future__ import annotations

import pytest

from wangge.core.models import AuditEntry
from wangge.integration.models import ApiToken
from wangge.integration.tokens import digest

pytestmark = pytest.mark.django_db

PAGE = "/console/open311/keys/"


@pytest.mark.parametrize("who", ["center_admin", "admin"])
def test_center_admins_see_every_system_key_with_its_system(login_as, api_key, who):
    r = login_as(who).get(PAGE)
    assert r.status_code == 200
    html = r.content.decode()
    prefix = ApiToken.objects.get(digest=digest(api_key)).prefix
    assert "测试应用" in html and prefix in html and "从未使用" in html
    assert api_key not in html  # a secret is never shown again


@pytest.mark.parametrize("who", ["dispatcher", "gridworker", "station", "leader", "water",
                                 "subcenter"])
def test_others_are_refused(login_as, who):
    assert login_as(who).get(PAGE).status_code == 403
    assert login_as(who).post("/console/open311/keys/create",
                              {"system": "sneaky"}).status_code == 403
    assert not ApiToken.objects.filter(user__username="system:sneaky").exists()


def test_signed_out_goes_to_login(client):
    r = client.get(PAGE)
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_create_shows_the_secret_once_and_it_works(login_as, client, drain, spot):
    staff = login_as("center_admin")
    r = staff.post("/console/open311/keys/create",
                   {"system": "fix-my-liling", "label": "随手拍", "expires": "90d"})
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    html = r.content.decode()
    start = html.index('id="issued-secret">') + len('id="issued-secret">')
    secret = html[start:html.index("<", start)]
    token = ApiToken.objects.get(digest=digest(secret))
    assert token.user.username == "system:fix-my-liling" and token.label == "随手拍"
    assert token.expires_at is not None
    assert AuditEntry.objects.filter(action="token.create", object_id=token.prefix).exists()
    assert secret not in staff.get(PAGE).content.decode()
    lng, lat = spot
    posted = client.post("/open311/v2/requests.json", {
        "api_key": secret, "service_code": drain.code, "lat": lat, "long": lng,
        "attribute[severity]": "minor"})
    assert posted.status_code == 201


@pytest.mark.parametrize(("form", "field"), [
    ({"system": ""}, "系统代码"),
    ({"system": "a b<script>"}, "系统代码"),
    ({"system": "ok-code", "expires": "soon"}, "到期"),
    ({"system": "ok-code", "expires": "2001-01-01"}, "到期"),
    ({"system": "ok-code", "label": "x" * 101}, "说明"),
])
def test_bad_input_is_400_naming_the_field_and_creates_nothing(login_as, form, field):
    before = ApiToken.objects.count()
    r = login_as("center_admin").post("/console/open311/keys/create", form)
    assert r.status_code == 400 and field in r.content.decode()
    assert ApiToken.objects.count() == before


def test_a_department_code_that_is_not_a_system_is_refused(login_as):
    r = login_as("center_admin").post("/console/open311/keys/create", {"system": "water"})
    assert r.status_code == 400
    assert not ApiToken.objects.filter(user__username="system:water").exists()


def test_revoke_is_audited_and_the_key_stops_working(login_as, client, api_key, drain):
    token = ApiToken.objects.get(digest=digest(api_key))
    staff = login_as("center_admin")
    r = staff.post(f"/console/open311/keys/{token.pk}/revoke")
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoke", object_id=token.prefix).exists()
    page = staff.get(PAGE).content.decode()
    assert f'data-prefix="{token.prefix}" data-state="revoked"' in page
    assert client.post("/open311/v2/requests.json", {"api_key": api_key}).status_code == 403
    assert staff.post("/console/open311/keys/999999/revoke").status_code == 404
    assert staff.get(f"/console/open311/keys/{token.pk}/revoke").status_code == 405


def test_the_menu_links_the_page_only_for_who_may_open_it(login_as):
    link = 'href="/console/open311/keys/"'
    assert link in login_as("center_admin").get("/console/cases/").content.decode()
    assert link not in login_as("gridworker").get("/console/cases/").content.decode()


def test_a_persons_own_token_is_not_on_the_page_nor_revocable_there(login_as):
    from django.contrib.auth import get_user_model

    from wangge.integration.actions import do_create_token

    own = do_create_token(get_user_model().objects.get(username="dispatcher"), label="我的")
    staff = login_as("center_admin")
    assert own.token.prefix not in staff.get(PAGE).content.decode()
    assert staff.post(f"/console/open311/keys/{own.token.pk}/revoke").status_code == 404
    own.token.refresh_from_db()
    assert own.token.revoked_at is None


def test_an_admin_of_a_sub_grid_is_not_a_center_admin(django_user_model):
    """The role must be held on the city itself: a key acts for a whole system."""
    from wangge.integration.access import can_manage_api_keys
    from wangge.org.actions import do_assign_role
    from wangge.org.models import Person, Role
    from wangge.territory.models import Grid

    user = django_user_model.objects.create(username="test-town-admin")
    person = Person.objects.create(name="街道管理员", user=user)
    do_assign_role(person, Role.ADMIN, Grid.objects.filter(level=2).first())
    assert not can_manage_api_keys(user)
    do_assign_role(person, Role.ADMIN, Grid.objects.get(level=0))
    assert can_manage_api_keys(django_user_model.objects.get(pk=user.pk))
