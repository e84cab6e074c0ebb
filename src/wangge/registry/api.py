"""Registry endpoints: scoped, masked by default; writes go through actions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.registry import access, actions, queries
from wangge.registry.export import residents_workbook
from wangge.registry.models import (
    Building,
    House,
    Household,
    KeyPlace,
    Organisation,
    Resident,
    UnmaskLog,
)

router = Router(tags=["registry"])

ClientKey = ModelText(IdempotencyKey, "key")
BuildingCode = ModelText(Building, "code")
HouseNumber = ModelText(House, "number")
HouseholdNumber = ModelText(Household, "number")
PersonName = ModelText(Resident, "name")
Ethnicity = ModelText(Resident, "ethnicity")
Address = ModelText(Building, "address")
PlaceName = ModelText(KeyPlace, "name")
Purpose = ModelText(UnmaskLog, "purpose")
#: raw identity numbers and phones as typed (spaces, dashes) before they are normalised
IdNumber = Text(40)
Phone = Text(30)
DateText = Text(32)
#: the record kinds whose history can be read, as singular or plural path segments
HistoryKind = Literal[tuple(sorted({  # type: ignore[valid-type]
    form for kind in access.MODELS
    for form in (kind, f"{kind}s", kind.replace("_", "-"), f"{kind.replace('_', '-')}s")}))]


class ResidentOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: dt.date
    id_number: str
    phone: str
    ethnicity: str
    residence_type: str
    relation: str
    grid: str
    grid_name: str
    building: str
    address: str
    house: str
    house_id: int
    household_id: int | None
    special_groups: list[str] | None  # null: not shown to this role


class ResidentFilters(Schema):
    q: Code = ""
    id_number: IdNumber = ""
    phone: Phone = ""
    grid: Code = ""
    special_group: Code = ""
    limit: int = Query(50, ge=1, le=500)
    offset: Offset = 0


class ResidentIn(Schema):
    name: PersonName
    id_number: IdNumber
    phone: Phone = ""
    ethnicity: Ethnicity = ""
    residence_type: Code
    building: BuildingCode
    house: HouseNumber
    household: HouseholdNumber = ""
    relation: Code = ""
    moved_in: DateText | None = None
    moved_out: DateText | None = None
    gender: Code = ""
    birth_date: DateText | None = None
    client_key: ClientKey | None = None


class ResidentPatch(Schema):
    name: PersonName | None = None
    id_number: IdNumber | None = None
    phone: Phone | None = None
    ethnicity: Ethnicity | None = None
    residence_type: Code | None = None
    building: BuildingCode | None = None
    house: HouseNumber | None = None
    household: HouseholdNumber | None = None
    relation: Code | None = None
    moved_in: DateText | None = None
    moved_out: DateText | None = None


def _create(request: HttpRequest, kind: str, body: Schema, shape: Any,
            data: dict[str, Any] | None = None) -> Status:
    """Create through the action; a replayed client key answers 200 with the first record
    (the action says whether it replayed: a read before it would race a concurrent first)."""
    done = actions.create_or_replay(
        kind, data if data is not None else body.dict(exclude={"client_key"}), request.auth,
        client_key=body.client_key)
    if done.replayed:  # the record as it is now, only while the caller may still see it
        access.access_record(request.auth, type(done.obj), done.obj.pk)
    return Status(200 if done.replayed else 201, shape(done.obj))


def _one(request: HttpRequest, resident: Resident) -> dict[str, Any]:
    return queries.resident_rows(request.auth, [resident])[0]


@router.get("/residents", response=responses(list[ResidentOut]), summary="人口查询（脱敏）")
def list_residents(request: HttpRequest, f: Query[ResidentFilters]) -> Any:
    qs = queries.search_residents(request.auth, q=f.q, id_number=f.id_number, phone=f.phone,
                                  grid=f.grid, special_group=f.special_group)
    return queries.resident_rows(request.auth, list(qs[f.offset:f.offset + f.limit]))


@router.post("/residents", response=responses({201: ResidentOut, 200: ResidentOut}),
             summary="新增人口")
def create_resident(request: HttpRequest, body: ResidentIn) -> Any:
    return _create(request, "resident", body, lambda obj: _one(request, obj))


@router.get("/residents/{pk}", response=responses(ResidentOut), summary="人口详情（脱敏）")
def get_resident(request: HttpRequest, pk: Id) -> Any:
    return _one(request, access.access_record(request.auth, Resident, pk))


@router.patch("/residents/{pk}", response=responses(ResidentOut), summary="修改人口信息")
def update_resident(request: HttpRequest, pk: Id, body: ResidentPatch) -> Any:
    obj = access.access_record(request.auth, Resident, pk)
    obj = actions.do_update(obj, body.dict(exclude_unset=True), request.auth)
    return _one(request, obj)


@router.delete("/residents/{pk}", response=responses({204: None}), summary="删除人口")
def delete_resident(request: HttpRequest, pk: Id) -> Any:
    actions.do_delete(access.access_record(request.auth, Resident, pk), request.auth)
    return Status(204, None)


class UnmaskIn(Schema):
    purpose: Purpose


class UnmaskOut(Schema):
    id_number: str
    phone: str


@router.post("/residents/{pk}/unmask", response=responses(UnmaskOut),
             summary="查看明文（须说明用途，留痕）")
def unmask_resident(request: HttpRequest, pk: Id, body: UnmaskIn) -> Any:
    resident = access.access_record(request.auth, Resident, pk)
    return actions.do_unmask(resident, request.auth, purpose=body.purpose)


class SpecialGroupIn(Schema):
    kind: Code
    since: dt.date | None = None


@router.post("/residents/{pk}/special-groups", response=responses({201: ResidentOut}),
             summary="列入特殊人群")
def add_special_group(request: HttpRequest, pk: Id, body: SpecialGroupIn) -> Any:
    resident = access.access_record(request.auth, Resident, pk)
    actions.do_add_special_group(resident, body.kind, request.auth, since=body.since)
    return Status(201, _one(request, resident))


class ChangeOut(Schema):
    at: dt.datetime
    actor: str | None
    action: str
    changes: dict[str, Any]
    source: str


@router.get("/{kind}/{pk}/history", response=responses(list[ChangeOut]), summary="变更记录")
def history(request: HttpRequest, kind: HistoryKind, pk: Id) -> Any:
    model = access.MODELS[kind.rstrip("s").replace("-", "_")]
    obj = access.access_record(request.auth, model, pk)
    rows = access.visible_history(request.auth).filter(
        object_type=actions.KIND_OF[model], object_id=obj.pk).select_related("actor")
    return [
        {"at": r.at, "actor": r.actor.get_username() if r.actor else None, "action": r.action,
         "changes": r.changes, "source": r.source}
        for r in rows
    ]


class BuildingIn(Schema):
    code: BuildingCode
    name: ModelText(Building, "name")  # type: ignore[valid-type]
    address: Address
    lng: float
    lat: float
    floors: int
    use: Code
    client_key: ClientKey | None = None


class HouseOut(Schema):
    id: int
    number: str
    area: float
    use: str
    residents: int


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    address: str
    lng: float
    lat: float
    floors: int
    use: str
    grid: str
    qr_url: str
    houses: list[HouseOut]
    residents: list[ResidentOut]


def _building(request: HttpRequest, b: Building) -> dict[str, Any]:
    houses = b.houses.annotate(n=Count("residents")).order_by("number")
    people = access.visible_residents(request.auth).filter(house__building=b).select_related(
        "grid", "house__building").order_by("house__number", "name")
    return {
        "id": b.pk, "code": b.code, "name": b.name, "address": b.address, "lng": b.lng,
        "lat": b.lat, "floors": b.floors, "use": b.use, "grid": b.grid.code,
        "qr_url": settings.PUBLIC_URL + reverse("web:qr", args=[b.qr_token]),
        "houses": [{"id": h.pk, "number": h.number, "area": float(h.area), "use": h.use,
                    "residents": h.n} for h in houses],
        "residents": queries.resident_rows(request.auth, list(people)),
    }


@router.get("/buildings", response=responses(list[dict[str, Any]]), summary="楼栋查询")
def list_buildings(request: HttpRequest, q: Code = "", grid: Code = "",
                   limit: int = Query(50, ge=1, le=500), offset: Offset = 0) -> Any:
    qs = access.visible(request.auth, Building).select_related("grid")
    if q:
        qs = qs.filter(address__contains=q) | qs.filter(name__contains=q)
    if grid:
        qs = qs.filter(grid__path__contains=f"/{grid}/")
    return [
        {"id": b.pk, "code": b.code, "name": b.name, "address": b.address, "grid": b.grid.code,
         "floors": b.floors, "use": b.use}
        for b in qs.order_by("code")[offset:offset + limit]
    ]


@router.post("/buildings", response=responses({201: BuildingOut, 200: BuildingOut}),
             summary="新增楼栋")
def create_building(request: HttpRequest, body: BuildingIn) -> Any:
    return _create(request, "building", body, lambda obj: _building(request, obj))


@router.get("/buildings/{pk}", response=responses(BuildingOut), summary="楼栋：房屋与人员")
def get_building(request: HttpRequest, pk: Id) -> Any:
    return _building(request, access.access_record(request.auth, Building, pk))


class HouseIn(Schema):
    building: BuildingCode
    number: HouseNumber
    area: float
    use: Code
    client_key: ClientKey | None = None


@router.post("/houses", response=responses({201: HouseOut, 200: HouseOut}), summary="新增房屋")
def create_house(request: HttpRequest, body: HouseIn) -> Any:
    return _create(request, "house", body, lambda h: {
        "id": h.pk, "number": h.number, "area": float(h.area), "use": h.use, "residents": 0})


class HouseholdOut(Schema):
    id: int
    number: str
    house_id: int
    address: str
    members: list[ResidentOut]


@router.get("/households/{pk}", response=responses(HouseholdOut), summary="家庭户")
def get_household(request: HttpRequest, pk: Id) -> Any:
    hh = access.access_record(request.auth, Household, pk)
    members = access.visible_residents(request.auth).filter(household=hh).select_related(
        "grid", "house__building").order_by("relation", "birth_date")
    return {"id": hh.pk, "number": hh.number, "house_id": hh.house_id,
            "address": f"{hh.house.building.address} {hh.house.number}",
            "members": queries.resident_rows(request.auth, list(members))}


class PlaceIn(Schema):
    name: PlaceName
    kind: Code
    address: Address
    lng: float
    lat: float
    credit_code: ModelText(Organisation, "credit_code") = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None


class PlaceOut(Schema):
    id: int
    name: str
    kind: str
    address: str
    lng: float
    lat: float
    grid: str


def _place(p: Any) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "kind": p.kind, "address": p.address, "lng": p.lng,
            "lat": p.lat, "grid": p.grid.code}


def _place_routes(path: str, kind: str, model: Any, label: str) -> None:
    @router.get(f"/{path}", response=responses(list[PlaceOut]), summary=f"{label}列表",
                operation_id=f"list_{kind}")
    def list_places(request: HttpRequest, grid: Code = "", limit: int = Query(100, ge=1, le=500),
                    offset: Offset = 0) -> Any:
        qs = access.visible(request.auth, model).select_related("grid").order_by("id")
        if grid:
            qs = qs.filter(grid__path__contains=f"/{grid}/")
        return [_place(p) for p in qs[offset:offset + limit]]

    @router.post(f"/{path}", response=responses({201: PlaceOut, 200: PlaceOut}),
                 summary=f"新增{label}", operation_id=f"create_{kind}")
    def create_place(request: HttpRequest, body: PlaceIn) -> Any:
        data = body.dict(exclude={"client_key"})
        if kind == "key_place":
            data.pop("credit_code")
        return _create(request, kind, body, _place, data)


_place_routes("key-places", "key_place", KeyPlace, "重点场所")
_place_routes("organisations", "organisation", Organisation, "组织")


@router.get("/export.xlsx", response=responses({}),
            summary="导出人口（默认脱敏；明文须权限与用途，逐人留痕）")
def export_residents(request: HttpRequest, f: Query[ResidentFilters], unmasked: bool = False,
                     purpose: Purpose = "") -> HttpResponse:
    qs = queries.search_residents(request.auth, q=f.q, id_number=f.id_number, phone=f.phone,
                                  grid=f.grid, special_group=f.special_group)
    reveal = None
    if unmasked:
        actions.check_unmask(request.auth, purpose)  # refuse before writing any row

        def reveal(batch: list[Resident]) -> dict[int, dict[str, str]]:
            return actions.do_unmask_many(batch, request.auth, purpose=purpose)
    body = residents_workbook(request.auth, qs, reveal)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="residents.xlsx"'
    return response


@router.get("/stats/collection", response=responses(list[dict[str, Any]]),
            summary="网格员采集更新统计（按日）")
def collection(request: HttpRequest, day: dt.date | None = None) -> Any:
    return queries.collection_counts(request.auth, day or timezone.localdate())


class UnmaskLogOut(Schema):
    at: dt.datetime
    actor: str
    resident_id: int
    fields: str
    purpose: str


@router.get("/unmask-log", response=responses(list[UnmaskLogOut]),
            summary="明文查看记录（管理员）")
def unmask_log(request: HttpRequest, limit: int = Query(100, ge=1, le=1000)) -> Any:
    rows = access.visible_unmask_logs(request.auth).select_related("actor")[:limit]
    return [{"at": r.at, "actor": r.actor.get_username(), "resident_id": r.resident_id,
             "fields": r.fields, "purpose": r.purpose} for r in rows]

