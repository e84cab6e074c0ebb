"""Who may see and do what in the service hall. The only place that decides it.

- Published, active items and their guides are public (the service hall is for everyone).
- Editing the catalogue: the center's admins (and superusers).
- An application (办件) is read by: the reviewers of its department (department staff of
  that department), the territory roles whose subtree holds its grid (the grid worker of
  the grid, the station, the grid chief, the sub-center …), the center roles, and whoever
  created it while logged in. A resident without a login reads their own by number and
  follow code (`public_application`), steps and verdicts only.
- A proxy request (代办) is read by the territory roles whose subtree holds its grid, the
  center roles, and the reviewers of the item's department once it has an application.
  A resident reads their own by number and follow code.
- Reviewing (material verdicts, pass / return / reject, result ready) is for the staff of
  the application's department, and the center's admins.
- Proxy steps at the door (collect, deliver) are the assigned worker's, and the station's
  and grid chief's of the grid (who stand in when the worker is ill).
- Material files and signatures are served only to someone who may read the record.

Everyone else gets 404 for a record, never a hint that it exists.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wangge.fieldwork.access import public_place
from wangge.fieldwork.models import Upload
from wangge.org.access import (
    TERRITORY_READ_ROLES,
    AnyUser,
    can_see_path,
    current_roles,
    is_center_staff,
    scope_paths,
)
from wangge.org.models import Role
from wangge.registry.models import Building, House
from wangge.services.models import (
    Application,
    Authorization,
    ItemVersion,
    MaterialFile,
    ProxyRequest,
    ServiceItem,
)
from wangge.territory.models import Grid, Level

#: who may edit and publish the catalogue (besides superusers)
CATALOGUE_ROLES = frozenset({Role.ADMIN})
#: who may stand in for the worker at the door, in their subtree
DOOR_ROLES = frozenset({Role.GRID_WORKER, Role.STATION_STAFF, Role.GRID_CHIEF})
#: who may act for an applicant in their subtree (upload, submit, withdraw): not the
#: read-only leaders
APPLY_ROLES = TERRITORY_READ_ROLES - {Role.LEADER}
#: who reads the proxy board of their subtree
BOARD_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF, Role.SUBCENTER_STAFF,
                         Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.LEADER})


def visible_items() -> QuerySet[ServiceItem]:
    """What the service hall lists: published, active items."""
    return ServiceItem.objects.filter(active=True, current__isnull=False)


def access_item(code: str) -> ServiceItem:
    item = visible_items().select_related("current", "department").filter(code=code).first()
    if item is None:
        raise Http404("no such service item")
    return item


def can_edit_catalogue(user: AnyUser) -> bool:
    return user.is_authenticated and (user.is_superuser or any(
        r.role in CATALOGUE_ROLES for r in current_roles(user)))


def editable_versions(user: AnyUser) -> QuerySet[ItemVersion]:
    if not can_edit_catalogue(user):
        return ItemVersion.objects.none()
    return ItemVersion.objects.all()


def catalogue_items(user: AnyUser) -> QuerySet[ServiceItem]:
    """The console's catalogue: every item for its editors (withdrawn ones and items with
    only a draft too), what the service hall lists for everyone else logged in."""
    if not user.is_authenticated:
        return ServiceItem.objects.none()
    return ServiceItem.objects.all() if can_edit_catalogue(user) else visible_items()


def access_catalogue_item(user: AnyUser, code: str) -> ServiceItem:
    item = catalogue_items(user).select_related("current", "department").filter(
        code=code).first()
    if item is None:
        raise Http404("no such service item")
    return item


def item_versions(user: AnyUser, item: ServiceItem) -> QuerySet[ItemVersion]:
    """An item's history: drafts only for the catalogue's editors."""
    qs = item.versions.select_related("department", "created_by", "published_by")
    return qs if can_edit_catalogue(user) else qs.exclude(state=ItemVersion.State.DRAFT)


def review_departments(user: AnyUser) -> list[int]:
    """The departments whose applications the user reviews."""
    return sorted({r.department_id for r in current_roles(user)
                   if r.role == Role.DEPARTMENT_STAFF and r.department_id is not None})


def _territory(user: AnyUser, field: str) -> Q:
    paths = scope_paths(user, TERRITORY_READ_ROLES)
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__path__startswith": p})
    return q


def is_reviewer(user: AnyUser) -> bool:
    """A department's pre-reviewer, or the center's admins (who review for any department):
    who gets the reviewer inbox."""
    return user.is_authenticated and (bool(review_departments(user))
                                      or can_edit_catalogue(user))


def sees_some_proxy_board(user: AnyUser) -> bool:
    """Whether the user reads the proxy board of some subtree (the menu's question)."""
    return user.is_authenticated and (user.is_superuser or any(
        r.role in BOARD_ROLES for r in current_roles(user)))


def visible_applications(user: AnyUser) -> QuerySet[Application]:
    if not user.is_authenticated:
        return Application.objects.none()
    if is_center_staff(user):
        return Application.objects.all()
    q = _territory(user, "grid") | Q(created_by=user)
    if (departments := review_departments(user)):
        q |= Q(department_id__in=departments)
    return Application.objects.filter(q)


def access_application(user: AnyUser, pk: int) -> Application:
    found = visible_applications(user).select_related("item", "version", "department",
                                                      "grid").filter(pk=pk).first()
    if found is None:
        raise Http404("no such application")
    return found


def can_review(user: AnyUser, application: Application) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or any(r.role == Role.ADMIN for r in current_roles(user)):
        return True
    return application.department_id in review_departments(user)


def can_apply_for(user: AnyUser, application: Application) -> bool:
    """The applicant side of a visible application: whoever created it; for an application
    a worker made for a resident, also the territory roles of its grid and the center's
    admins (a reviewer only reviews). A resident's own online application is theirs alone
    (and whoever holds its follow code): staff never withdraw it for them."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or application.created_by_id == user.pk:
        return True
    if application.channel == Application.Channel.PUBLIC:
        return False
    if any(r.role == Role.ADMIN for r in current_roles(user)):
        return True
    if application.grid_id is None:
        return False
    grid = application.grid
    return any(grid.path.startswith(p) for p in scope_paths(user, APPLY_ROLES) or [])


def access_material_file(user: AnyUser, application_id: int, file_id: int) -> MaterialFile:
    """A material file is served exactly to those who may see its application."""
    found = MaterialFile.objects.select_related("application").filter(
        pk=file_id, application_id=application_id,
        application__in=visible_applications(user)).first()
    if found is None:
        raise Http404("no such file")
    return found


def public_material_file(no: str, follow_code: str, file_id: int) -> MaterialFile:
    """The applicant's own file, by the application's number and follow code."""
    application = public_application(no, follow_code)
    found = MaterialFile.objects.filter(pk=file_id, application=application).first()
    if found is None:
        raise Http404("no such file")
    return found


def public_application(no: str, follow_code: str) -> Application:
    """A resident's own application, by its number and follow code (no login)."""
    found = Application.objects.select_related("item", "version").filter(
        no=no, follow_code=(follow_code or "").strip().upper()).first()
    if found is None or not follow_code:
        raise Http404("no such application")
    return found


def visible_proxies(user: AnyUser) -> QuerySet[ProxyRequest]:
    if not user.is_authenticated:
        return ProxyRequest.objects.none()
    if is_center_staff(user):
        return ProxyRequest.objects.all()
    q = _territory(user, "grid")
    if (departments := review_departments(user)):
        q |= Q(application__department_id__in=departments)
    return ProxyRequest.objects.filter(q)


def access_proxy(user: AnyUser, pk: int) -> ProxyRequest:
    found = visible_proxies(user).select_related(
        "item", "grid", "worker", "house", "application").filter(pk=pk).first()
    if found is None:
        raise Http404("no such proxy request")
    return found


def can_work_at_door(user: AnyUser, proxy: ProxyRequest) -> bool:
    """Whoever works the request's grid now: its grid worker (the one booked, or the one who
    took the grid over: a request follows the grid, not a worker who has left it), or the
    station / grid chief above the grid (standing in)."""
    if not user.is_authenticated:
        return False
    return any((r.role == Role.GRID_WORKER and r.grid_id == proxy.grid_id)
               or (r.role in (DOOR_ROLES - {Role.GRID_WORKER})
                   and proxy.grid.path.startswith(r.path))
               for r in current_roles(user))


def proxy_signature(user: AnyUser, pk: int) -> Upload:
    """The 委托书 signature of a proxy request the user may read (else 404)."""
    found = Authorization.objects.select_related("signature").filter(
        proxy__in=visible_proxies(user), proxy_id=pk).first()
    if found is None:
        raise Http404("no signature")
    return found.signature


def proxy_delivery(user: AnyUser, pk: int, what: str) -> Upload:
    """The delivery `signature` or `photo` of a proxy request the user may read (else 404)."""
    proxy = access_proxy(user, pk)
    upload_id = (proxy.delivery_signature_id if what == "signature"
                 else proxy.delivery_photo_id)
    if upload_id is None:
        raise Http404("not delivered")
    return Upload.objects.get(pk=upload_id)


def can_see_proxy_board(user: AnyUser, grid_path: str) -> bool:
    return user.is_authenticated and (
        user.is_superuser or can_see_path(user, grid_path, BOARD_ROLES))


def public_proxy(no: str, follow_code: str) -> ProxyRequest:
    found = ProxyRequest.objects.select_related("item").filter(
        no=no, follow_code=(follow_code or "").strip().upper()).first()
    if found is None or not follow_code:
        raise Http404("no such proxy request")
    return found


# ---------------------------------------------------------------- the public pages' places


def public_place_by_qr(token: str) -> tuple[Grid, Building | None]:
    """(basic grid, building or None) behind a grid's or a building's QR code, for the
    signed-out service hall (the QR page links here with its token). 404 for an unknown
    code, or a grid code that is not a basic grid (nobody to send)."""
    grid, building = public_place(token=(token or "").strip())
    if grid is None:
        raise Http404("unknown code")
    return grid, building


def public_communities() -> QuerySet[Grid]:
    """The communities and villages a resident picks from when no QR code told us where
    they live (names only: the grid tree is public)."""
    return Grid.objects.filter(level=Level.VILLAGE).select_related("parent").order_by(
        "parent__path", "path")


def public_basic_grids(community_code: str) -> QuerySet[Grid]:
    return Grid.objects.filter(level=Level.BASIC, parent__code=community_code,
                               parent__level=Level.VILLAGE).order_by("path")


def public_basic_grid(code: str) -> Grid:
    grid = Grid.objects.filter(code=code, level=Level.BASIC).first()
    if grid is None:
        raise Http404("no such grid")
    return grid


def public_houses(building: Building) -> list[tuple[int, str]]:
    """The door numbers of a building, for a resident who scanned its door code to say
    which door is theirs (numbers only, nothing about who lives there)."""
    return list(House.objects.filter(building=building).order_by("number")
                .values_list("pk", "number"))
