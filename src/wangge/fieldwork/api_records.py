"""Fieldwork API: visits, public opinions, the diary, outreach and the catalogue (see
fieldwork/api.py). Lists are scoped through fieldwork.access and paginated (limit/offset,
newest first). Creates go through the sync engine (apply_envelope): 201 created, 200
replayed (the same client_key again), 422 naming the field, 403, 404."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from wangge.cases.models import CaseCategory
from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.fieldwork import access, records_queries
from wangge.fieldwork.actions.diary import diary_row, do_edit_diary
from wangge.fieldwork.actions.opinions import (
    do_answer_opinion,
    do_forward_opinion,
    do_opinion_to_case,
    opinion_row,
)
from wangge.fieldwork.actions.outreach import distribution_row, do_save_material
from wangge.fieldwork.actions.visits import visit_row
from wangge.fieldwork.api_common import send
from wangge.fieldwork.models import (
    Material,
    Opinion,
    OpinionTopic,
    VisitFrequency,
    VisitKind,
)
from wangge.territory.models import Grid

router = Router(tags=["fieldwork"])

ClientKey = ModelText(IdempotencyKey, "key")
When = Text(40)
Limit = Annotated[int, Query(ge=1, le=500)]
#: `from` is a keyword in Python: the parameter is from_, the query string says from
From = Annotated[dt.date | None, Query(alias="from")]
Ids = Annotated[list[Id], Field(max_length=50)]
Source = Literal[tuple(Opinion.Source.values)]  # type: ignore[valid-type]
Urgency = Literal[tuple(Opinion.Urgency.values)]  # type: ignore[valid-type]
State = Literal[tuple(Opinion.State.values)]  # type: ignore[valid-type]


def _page(qs: QuerySet, limit: int, offset: int) -> QuerySet:
    return qs[offset:offset + limit]


def _under(user: AbstractBaseUser, qs: QuerySet, code: str) -> QuerySet:
    """Rows under grid `code` (a grid the caller cannot see gives none)."""
    if not code:
        return qs
    grid = Grid.objects.filter(code=code).first()
    if grid is None or not access.can_see_grid(user, grid):
        return qs.none()
    return qs.filter(grid__path__startswith=grid.path)


# -- visits ------------------------------------------------------------------------------

class VisitIn(Schema):
    visited_at: When  # type: ignore[valid-type]
    kind: Code  # type: ignore[valid-type]
    household_id: Id | None = None
    resident_id: Id | None = None
    people_met: int = Field(1, ge=1, le=1000)
    needs: Text() = ""  # type: ignore[valid-type]
    help_given: Text() = ""  # type: ignore[valid-type]
    follow_up_on: dt.date | None = None
    photo_hashes: Annotated[list[Text(64)], Field(max_length=9)] = []  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class VisitOut(Schema):
    id: int
    worker_id: int
    grid: str
    grid_name: str
    kind: str
    kind_name: str
    visited_at: dt.datetime
    household_id: int | None
    resident_id: int | None
    people_met: int
    needs: str
    help_given: str
    follow_up_on: dt.date | None
    photo_hashes: list[str]


@router.get("/visits", response=responses(list[VisitOut]), summary="走访记录（本人范围）")
def list_visits(request: HttpRequest, grid: Code = "", kind: Code = "",  # type: ignore[valid-type]
                from_: From = None,
                to: dt.date | None = None, limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = _under(request.auth, access.visible_visits(request.auth), grid)
    if kind:
        qs = qs.filter(kind__code=kind)
    qs = records_queries.local_range(qs, "visited_at", from_, to)
    qs = qs.select_related("kind", "grid").order_by("-visited_at", "-pk")
    return [visit_row(v) for v in _page(qs, limit, offset)]


@router.post("/visits", response=responses({201: VisitOut, 200: VisitOut}), summary="记录走访")
def create_visit(request: HttpRequest, body: VisitIn) -> Any:
    return send(request, "visit.create", body)


@router.get("/visits/{pk}", response=responses(VisitOut), summary="一次走访")
def get_visit(request: HttpRequest, pk: Id) -> Any:
    return visit_row(access.access_one(
        access.visible_visits(request.auth).select_related("kind", "grid"), pk))


# -- opinions ----------------------------------------------------------------------------

class OpinionIn(Schema):
    collected_at: When  # type: ignore[valid-type]
    topic: Code  # type: ignore[valid-type]
    content: Text()  # type: ignore[valid-type]
    source: Source  # type: ignore[valid-type]
    people_concerned: int = Field(1, ge=1, le=1_000_000)
    urgency: Urgency = "normal"  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class OpinionOut(Schema):
    id: int
    author_id: int
    grid: str
    grid_name: str
    topic: str
    topic_name: str
    content: str
    source: str
    people_concerned: int
    urgency: str
    state: str
    answer: str
    case: str | None
    collected_at: dt.datetime
    forwarded_at: dt.datetime | None
    answered_at: dt.datetime | None
    #: opinion (社情民意) or question (a resident's 咨询, sent on the public pages)
    kind: str = "opinion"
    #: the number a resident got from the public pages (None for collected ones)
    public_no: str | None = None


class AnswerIn(Schema):
    answer: Text()  # type: ignore[valid-type]


class ToCaseIn(Schema):
    category: ModelText(CaseCategory, "code")  # type: ignore[valid-type]
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class DigestTopic(Schema):
    code: str
    name: str
    total: int


class DigestArea(Schema):
    grid: str
    name: str
    #: one count per topic, in the order of `topics`
    counts: list[int]
    total: int


class DigestOut(Schema):
    level: int
    from_: str | None = Field(None, alias="from")
    to: str | None
    topics: list[DigestTopic]
    areas: list[DigestArea]
    total: int


def _opinions(user: AbstractBaseUser) -> QuerySet[Opinion]:
    return access.visible_opinions(user).select_related("grid", "topic", "case")


@router.get("/opinions", response=responses(list[OpinionOut]), summary="社情民意（本人范围）")
def list_opinions(request: HttpRequest, grid: Code = "", topic: Code = "",  # type: ignore[valid-type]
                  state: State | None = None,  # type: ignore[valid-type]
                  from_: From = None,
                  to: dt.date | None = None, limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = _under(request.auth, _opinions(request.auth), grid)
    if topic:
        qs = qs.filter(topic__code=topic)
    if state:
        qs = qs.filter(state=state)
    qs = records_queries.local_range(qs, "collected_at", from_, to)
    return [opinion_row(o) for o in _page(qs.order_by("-collected_at", "-pk"), limit, offset)]


@router.post("/opinions", response=responses({201: OpinionOut, 200: OpinionOut}),
             summary="收集社情民意")
def create_opinion(request: HttpRequest, body: OpinionIn) -> Any:
    return send(request, "opinion.create", body)


@router.get("/opinions/digest", response=responses(DigestOut), by_alias=True,
            summary="社情民意汇总：类别 × 街道（乡镇）或社区（村）")
def opinion_digest(request: HttpRequest, from_: From = None,
                   to: dt.date | None = None,
                   level: Annotated[int, Query(ge=2, le=3)] = 2) -> Any:
    return records_queries.opinion_digest(request.auth, from_, to, level)


@router.get("/opinions/{pk}", response=responses(OpinionOut), summary="一条社情民意")
def get_opinion(request: HttpRequest, pk: Id) -> Any:
    return opinion_row(access.access_one(_opinions(request.auth), pk))


@router.post("/opinions/{pk}/forward", response=responses(OpinionOut), summary="上报")
def forward_opinion(request: HttpRequest, pk: Id) -> Any:
    return opinion_row(do_forward_opinion(request.auth, pk))


@router.post("/opinions/{pk}/answer", response=responses(OpinionOut), summary="答复")
def answer_opinion(request: HttpRequest, pk: Id, body: AnswerIn) -> Any:
    return opinion_row(do_answer_opinion(request.auth, pk, body.answer))


@router.post("/opinions/{pk}/case", response=responses(OpinionOut), summary="转为事件")
def opinion_to_case(request: HttpRequest, pk: Id, body: ToCaseIn) -> Any:
    return opinion_row(do_opinion_to_case(request.auth, pk, body.category, body.lng, body.lat))


# -- diary -------------------------------------------------------------------------------

class DiaryIn(Schema):
    day: dt.date
    text: Text()  # type: ignore[valid-type]
    tags: Annotated[list[Text(20)], Field(max_length=10)] = []  # type: ignore[valid-type]
    household_ids: Ids = []
    #: a case's id or its register number
    case_ids: Annotated[list[Id | Code], Field(max_length=50)] = []  # type: ignore[valid-type]
    opinion_ids: Ids = []
    opinion_keys: Annotated[list[ClientKey], Field(max_length=50)] = []  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DiaryEditIn(Schema):
    text: Text() | None = None  # type: ignore[valid-type]
    tags: Annotated[list[Text(20)], Field(max_length=10)] | None = None  # type: ignore[valid-type]
    household_ids: Ids | None = None
    case_ids: Annotated[list[Id | Code], Field(max_length=50)] | None = None  # type: ignore[valid-type]
    opinion_ids: Ids | None = None


class DiaryOut(Schema):
    id: int
    author_id: int
    author: str
    grid: str
    grid_name: str
    day: dt.date
    text: str
    tags: list[str]
    written_at: dt.datetime
    household_ids: list[int]
    cases: list[str]
    opinion_ids: list[int]
    editable_until: dt.date


def _diary(user: AbstractBaseUser) -> QuerySet:
    return access.visible_diary(user).select_related("author", "grid")


@router.get("/diary", response=responses(list[DiaryOut]),
            summary="民情日记（本人及所在工作站、网格长可见）")
def list_diary(request: HttpRequest, grid: Code = "", author: Id | None = None,  # type: ignore[valid-type]
               from_: From = None, to: dt.date | None = None,
               limit: Limit = 50, offset: Offset = 0) -> Any:
    qs = _under(request.auth, _diary(request.auth), grid)
    if author:
        qs = qs.filter(author_id=author)
    if from_:
        qs = qs.filter(day__gte=from_)
    if to:
        qs = qs.filter(day__lte=to)
    return [diary_row(e) for e in _page(qs.order_by("-day", "-written_at", "-pk"), limit,
                                        offset)]


@router.post("/diary", response=responses({201: DiaryOut, 200: DiaryOut}), summary="写民情日记")
def create_diary(request: HttpRequest, body: DiaryIn) -> Any:
    return send(request, "diary.create", body)


@router.get("/diary/{pk}", response=responses(DiaryOut), summary="一篇民情日记")
def get_diary(request: HttpRequest, pk: Id) -> Any:
    return diary_row(access.access_one(_diary(request.auth), pk))


@router.patch("/diary/{pk}", response=responses(DiaryOut), summary="修改民情日记（本人，限期内）")
def edit_diary(request: HttpRequest, pk: Id, body: DiaryEditIn) -> Any:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    return diary_row(do_edit_diary(request.auth, pk, changes))


# -- outreach ----------------------------------------------------------------------------

class MaterialIn(Schema):
    code: ModelText(Material, "code")  # type: ignore[valid-type]
    name: ModelText(Material, "name")  # type: ignore[valid-type]
    topic: ModelText(Material, "topic")  # type: ignore[valid-type]
    active: bool = True


class MaterialOut(Schema):
    code: str
    name: str
    topic: str
    active: bool


class DistributionIn(Schema):
    day: dt.date
    material: Code  # type: ignore[valid-type]
    count: int = Field(ge=1, le=100_000)
    household_id: Id | None = None
    place: Text(100) = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DistributionOut(Schema):
    id: int
    worker_id: int
    grid: str
    grid_name: str
    material: str
    material_name: str
    count: int
    household_id: int | None
    place: str
    day: dt.date


class MaterialTotal(MaterialOut):
    copies: int
    distributions: int


class TotalsOut(Schema):
    grid: str | None
    from_: str | None = Field(None, alias="from")
    to: str | None
    materials: list[MaterialTotal]
    copies: int
    distributions: int


def _material(m: Material) -> dict[str, Any]:
    return {"code": m.code, "name": m.name, "topic": m.topic, "active": m.active}


@router.get("/outreach/materials", response=responses(list[MaterialOut]), summary="宣传资料目录")
def list_materials(request: HttpRequest) -> Any:
    return [_material(m) for m in Material.objects.order_by("topic", "code")]


@router.post("/outreach/materials", response=responses(MaterialOut),
             summary="新增或修改宣传资料（中心）")
def save_material(request: HttpRequest, body: MaterialIn) -> Any:
    return _material(do_save_material(request.auth, body.code, name=body.name,
                                      topic=body.topic, active=body.active))


@router.get("/outreach/distributions", response=responses(list[DistributionOut]),
            summary="资料发放记录（本人范围）")
def list_distributions(request: HttpRequest, grid: Code = "", material: Code = "",  # type: ignore[valid-type]
                       from_: From = None,
                       to: dt.date | None = None, limit: Limit = 50,
                       offset: Offset = 0) -> Any:
    qs = _under(request.auth, access.visible_distributions(request.auth), grid)
    if material:
        qs = qs.filter(material__code=material)
    if from_:
        qs = qs.filter(day__gte=from_)
    if to:
        qs = qs.filter(day__lte=to)
    qs = qs.select_related("grid", "material").order_by("-day", "-pk")
    return [distribution_row(d) for d in _page(qs, limit, offset)]


@router.post("/outreach/distributions",
             response=responses({201: DistributionOut, 200: DistributionOut}),
             summary="记录资料发放")
def create_distribution(request: HttpRequest, body: DistributionIn) -> Any:
    return send(request, "distribution.create", body)


@router.get("/outreach/totals", response=responses(TotalsOut), by_alias=True,
            summary="资料发放合计（按资料；可限网格子树、时段）")
def outreach_totals(request: HttpRequest, grid: Code = "",  # type: ignore[valid-type]
                    from_: From = None,
                    to: dt.date | None = None) -> Any:
    under = None
    if grid:
        under = Grid.objects.filter(code=grid).first()
        if under is None or not access.can_see_grid(request.auth, under):
            raise Http404("no such grid")
    return records_queries.outreach_totals(request.auth, from_, to, under)


# -- the catalogue the field app caches ---------------------------------------------------

class Named(Schema):
    code: str
    name: str


class FrequencyOut(Schema):
    special_group_kind: str
    every_days: int
    visit_kind: str


class CatalogueOut(Schema):
    #: changes whenever the catalogue does (a hash of its content)
    version: str
    visit_kinds: list[Named]
    visit_frequencies: list[FrequencyOut]
    opinion_topics: list[Named]
    opinion_sources: list[Named]
    urgencies: list[Named]
    materials: list[MaterialOut]


@router.get("/catalogue", response=responses(CatalogueOut),
            summary="走访类型、社情民意类别、宣传资料（外勤应用缓存）")
def catalogue(request: HttpRequest) -> Any:
    out: dict[str, Any] = {
        "visit_kinds": [{"code": k.code, "name": k.name} for k in VisitKind.objects.all()],
        "visit_frequencies": [
            {"special_group_kind": f.special_group_kind, "every_days": f.every_days,
             "visit_kind": f.visit_kind.code}
            for f in VisitFrequency.objects.select_related("visit_kind")
            .order_by("special_group_kind")],
        "opinion_topics": [{"code": t.code, "name": t.name}
                           for t in OpinionTopic.objects.all()],
        "opinion_sources": [{"code": c, "name": str(n)} for c, n in Opinion.Source.choices],
        "urgencies": [{"code": c, "name": str(n)} for c, n in Opinion.Urgency.choices],
        "materials": [_material(m) for m in Material.objects.filter(active=True)
                      .order_by("topic", "code")],
    }
    out["version"] = hashlib.sha256(json.dumps(out, sort_keys=True, ensure_ascii=False)
                                    .encode()).hexdigest()[:16]
    return out
