"""The public channels in the demo city: residents' reports, their ratings and follow-up
calls, and residents' opinions and questions — over the year of cases already loaded, in
bulk (core.bulk: COPY on PostgreSQL, a few set-wise UPDATEs), so the load grows by well
under a second or two. It is history like the rest: no outbox rows, no audit entries.

- Reports: REPORT_SHARE of the resident-channel cases whose small class has a resident-
  facing category become ResidentReports (source qr / web / open311, anonymous or with a
  phone from the demo's synthetic 1709 block — sealed, blind-indexed and masked like any
  resident's phone, never a real number).
- Ratings: every resident-channel case the history evaluated, and every one closed more
  than a week ago (the history leaves some closed and never called back; a dispatcher's
  回访 list of year-old cases is not what a city looks like), gets a Rating with the
  levels of a 12345 hotline: mostly 满意/非常满意, about 5 % 不满意 or worse. Under the
  FeedbackRule a first unsatisfied rating always reopens (within days, once), so an
  unsatisfied level happens only as the first rating of a reopened case (REOPEN_SHARE, a
  handful: reopen_count 1, counted as rework, `rate` + `reopen` on the timeline, then the
  work done again and a second rating, which closes it whatever it says).
- 回访: resident cases closed in the last week stay unrated (several are kept so), so the
  console's follow-up list is not empty.
- Opinions and questions (社情民意 / 咨询) sent on the public pages: numbered, with a
  follow code, handed to the grid's worker, the older ones mostly answered.

No Open311 key is made: the demo must not print or store a secret it cannot show; `wangge
tokens create --system open311-demo` makes one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from wangge.cases.models import (
    Case,
    CaseEvent,
    PublicCategory,
    Rating,
    ResidentReport,
    new_follow_code,
    new_report_token,
)
from wangge.cases.workflow import State
from wangge.core import crypto
from wangge.core.bulk import allocate_ids, db_datetime, db_json, insert_rows
from wangge.demo import casetext, fieldtext
from wangge.demo.caseload import _columns as columns_with_defaults
from wangge.demo.people import PHONE_BLOCK, PHONE_PREFIX
from wangge.fieldwork.actions.opinions import public_number
from wangge.fieldwork.models import Opinion, OpinionTopic
from wangge.org.models import Role, RoleAssignment
from wangge.registry.identity import mask_phone

#: of the resident-channel cases with a resident-facing kind, how many came in as reports
REPORT_SHARE = 0.7
SOURCES = (["qr", "web", "open311"], [55, 33, 12])
#: reports that leave a phone (the others are anonymous)
WITH_PHONE = 0.6
#: levels of a rating that closes a case (12345 practice: mostly satisfied)
FINAL_LEVELS = ([5, 4, 3], [62, 30, 8])
#: the second rating after a reopen (rework often leaves some doubt)
AFTER_REOPEN = ([5, 4, 3, 2, 1], [30, 30, 22, 11, 7])
#: rated cases whose first rating was unsatisfied and reopened them
REOPEN_SHARE = 0.04
#: cases closed this many days ago or less stay unrated (the 回访 list)
UNRATED_DAYS = 7
#: at least this many unrated resident cases closed in the last week
UNRATED_AT_LEAST = 6
#: how the rating came in
VIA = (["followup", "resident"], [60, 40])
RESIDENT_COMMENTS = {5: "处理很及时，谢谢！", 4: "问题解决了", 3: "解决了，但等的时间有点长",
                     2: "还没有彻底解决", 1: "问题依旧，没人来看过"}
#: resident opinions/questions per case of the year (Liling's 1/7 for all opinions; a
#: small part comes in on the public pages)
RESIDENT_OPINIONS_PER_CASE = 0.012
QUESTIONS: list[tuple[str, str, str]] = [
    ("livelihood", "请问高龄津贴每月几号发放？要到哪里申请？",
     "80周岁以上老人由社区统一申报，每月15日前发放到社保卡，详情可到社区服务站咨询。"),
    ("livelihood", "孩子上小学需要准备哪些入学材料？",
     "需户口簿、房产证明或居住证，具体以教育局当年公布的招生简章为准。"),
    ("urban_management", "小区门口可以设置临时摊位吗，需要办什么手续？",
     "临时摊点须向城管部门申请，经同意后在指定区域、时段经营。"),
    ("public_security", "外地亲戚来长住，需要办理居住登记吗？",
     "居住半年以上的须办理居住证，可到辖区派出所或网上办理。"),
    ("sanitation", "大件垃圾（旧沙发）怎么处理？",
     "请联系物业或社区预约，每周六上午统一清运。"),
]


def _phone(rng: random.Random) -> str:
    """A number of the demo's synthetic block (people.PHONE_PREFIX), never a real one."""
    return f"{PHONE_PREFIX}{rng.randrange(PHONE_BLOCK):07d}"


def load_public_channels(*, seed: int = 2026, now: dt.datetime | None = None) -> dict[str, int]:
    """Reports, ratings, reopens and resident opinions over the loaded year; the counts."""
    rng = random.Random(seed * 31 + 14)
    now = now or timezone.now()
    counts: dict[str, int] = {}
    ring = crypto.keyring()
    counts["resident_reports"] = _reports(rng, ring)
    counts.update(_ratings(rng, now))
    counts["resident_opinions"] = _opinions(rng, ring, now)
    return counts


# ---------------------------------------------------------------------- reports


def _reports(rng: random.Random, ring: Any) -> int:
    kinds: dict[int, list[int]] = defaultdict(list)
    for pk, category in PublicCategory.objects.filter(active=True).order_by(
            "order", "code").values_list("pk", "category_id"):
        kinds[category].append(pk)
    cases = list(Case.objects.filter(channel=Case.Channel.RESIDENT, confidential=False,
                                     category_id__in=list(kinds))
                 .exclude(resident_report__isnull=False)
                 .order_by("pk").values_list("pk", "category_id", "created_at"))
    chosen = [c for c in cases if rng.random() < REPORT_SHARE]
    given = ["case_id", "source", "public_category_id", "token", "anonymous", "phone_enc",
             "phone_hash", "phone_masked", "created_at"]
    columns, rest = columns_with_defaults(ResidentReport, given)
    ids = allocate_ids(ResidentReport, len(chosen))
    rows = []
    for pk, (case_id, category, created) in zip(ids, chosen, strict=True):
        sealed: tuple[Any, str, str] = (None, "", "")
        if rng.random() < WITH_PHONE:
            phone = _phone(rng)
            sealed = (crypto.seal(phone, ring), crypto.blind_index(phone, ring),
                      mask_phone(phone))
        rows.append((pk, case_id, rng.choices(*SOURCES)[0], rng.choice(kinds[category]),
                     new_report_token(), sealed[0] is None, *sealed, db_datetime(created),
                     *rest))
    insert_rows(ResidentReport, columns, rows)
    return len(rows)


# ---------------------------------------------------------------------- ratings


def _ratings(rng: random.Random, now: dt.datetime) -> dict[str, int]:
    """Rate the evaluated and the long-closed resident cases; reopen a few first."""
    recent = now - dt.timedelta(days=UNRATED_DAYS)
    # confidential ones too: a call is made and its rating kept, neither is public
    resident = Case.objects.filter(channel=Case.Channel.RESIDENT, ratings__isnull=True)
    _keep_some_unrated(rng, resident.filter(confidential=False), recent)
    rows = list(resident.filter(Q(state=State.EVALUATED)
                                | Q(state=State.CLOSED, closed_at__lt=recent))
                .order_by("pk").values_list("pk", "state", "closed_at"))
    ids = [r[0] for r in rows]
    evaluate_at: dict[int, tuple[dt.datetime, int | None]] = {}
    for chunk in _chunks(ids):
        for case_id, at, actor in CaseEvent.objects.filter(
                case_id__in=chunk, action="evaluate").values_list("case_id", "at", "actor_id"):
            evaluate_at[case_id] = (at, actor)
    ratings: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    by_level: dict[int, list[int]] = defaultdict(list)
    newly_evaluated: list[int] = []
    reopened: list[int] = []
    closed_again: dict[int, dt.datetime] = {}
    for case_id, state, closed_at in rows:
        if state == State.CLOSED:  # closed, never called back: the call happens now
            at = closed_at + dt.timedelta(hours=rng.uniform(2, 72))
            newly_evaluated.append(case_id)
            actor = None
        else:
            at, actor = evaluate_at.get(case_id, (closed_at, None))
        via = rng.choices(*VIA)[0]
        if rng.random() < REOPEN_SHARE and closed_at is not None:
            level = rng.choices(*AFTER_REOPEN)[0]
            first = rng.choice([2, 1])
            span = (at - closed_at) / 6
            ratings.append((case_id, first, RESIDENT_COMMENTS[first], "resident", None, True,
                            db_datetime(closed_at + span)))
            events.extend(_reopen_events(case_id, closed_at, span, first, actor))
            reopened.append(case_id)
            closed_again[case_id] = closed_at + span * 5
        else:
            level = rng.choices(*FINAL_LEVELS)[0]
        comment = (casetext.followup(level) if via == "followup"
                   else RESIDENT_COMMENTS[level])
        ratings.append((case_id, level, comment, via, actor if via == "followup" else None,
                        False, db_datetime(at)))
        by_level[level].append(case_id)
        if state == State.CLOSED:
            events.append((case_id, at, actor, "evaluate", State.CLOSED, State.EVALUATED,
                           comment, {"satisfaction": level, "via": via}))
    columns, rest = columns_with_defaults(Rating, ["case_id", "level", "comment", "via",
                                                   "entered_by_id", "reopened", "created_at"])
    insert_rows(Rating, columns, [(pk, *r, *rest) for pk, r in zip(
        allocate_ids(Rating, len(ratings)), ratings, strict=True)])
    columns, rest = columns_with_defaults(CaseEvent, ["case_id", "at", "actor_id", "action",
                                                      "from_state", "to_state", "note", "data"])
    insert_rows(CaseEvent, columns, [
        (pk, e[0], db_datetime(e[1]), e[2], e[3], e[4], e[5], e[6], db_json(e[7]), *rest)
        for pk, e in zip(allocate_ids(CaseEvent, len(events)), events, strict=True)])
    # set-wise: one UPDATE per level (the case and its evaluate entry say the same level)
    for level, cases in by_level.items():
        for chunk in _chunks(cases):
            Case.objects.filter(pk__in=chunk).update(state=State.EVALUATED, satisfaction=level)
            CaseEvent.objects.filter(case_id__in=chunk, action="evaluate").update(
                note=casetext.followup(level), data={"satisfaction": level})
    _count_rework(reopened, closed_again)
    return {"ratings": len(ratings), "reopened": len(reopened),
            "followups_recorded": len(newly_evaluated)}


def _reopen_events(case_id: int, closed_at: dt.datetime, span: dt.timedelta, first: int,
                   actor: int | None) -> list[tuple[Any, ...]]:
    """The unsatisfied rating, the reopen, the work again, the second close: between the
    first close and the final rating (the history's own entries stay as they were)."""
    note = RESIDENT_COMMENTS[first]
    data = {"level": first, "via": "resident"}
    return [
        (case_id, closed_at + span, None, "rate", State.CLOSED, State.CLOSED, note,
         {**data, "reopened": True}),
        (case_id, closed_at + span, None, "reopen", State.CLOSED, State.IN_PROGRESS, note,
         {**data, "reopen_count": 1}),
        (case_id, closed_at + span * 3, None, "handle", State.IN_PROGRESS, State.HANDLED,
         "已按居民意见返工处理", {}),
        (case_id, closed_at + span * 4, None, "verify_pass", State.HANDLED, State.VERIFIED,
         "", {}),
        (case_id, closed_at + span * 5, actor, "close", State.VERIFIED, State.CLOSED,
         "返工完成，问题已解决", {}),
    ]


def _count_rework(reopened: list[int], closed_again: dict[int, dt.datetime]) -> None:
    """A reopen is a rework (返工率) and a reopen: both counted, as do_rate does; the case's
    close is the second one."""
    for chunk in _chunks(reopened):
        Case.objects.filter(pk__in=chunk).update(rework_count=F("rework_count") + 1,
                                                 reopen_count=1)
    cases = list(Case.objects.filter(pk__in=list(closed_again)).only("pk", "closed_at"))
    for case in cases:
        case.closed_at = closed_again[case.pk]
    Case.objects.bulk_update(cases, ["closed_at"], batch_size=500)


def _keep_some_unrated(rng: random.Random, resident: Any, recent: dt.datetime) -> None:
    """Closed in the last week and not rated: at least UNRATED_AT_LEAST such cases, so the
    回访 desk has calls to make. If the history evaluated too many of them, the latest
    evaluations are taken back (the call has not happened yet)."""
    window = resident.filter(closed_at__gte=recent, closed_at__lt=recent + dt.timedelta(
        days=UNRATED_DAYS - 2))
    missing = UNRATED_AT_LEAST - window.filter(state=State.CLOSED).count()
    if missing <= 0:
        return
    back = list(window.filter(state=State.EVALUATED).order_by("pk")
                .values_list("pk", flat=True))
    back = rng.sample(back, min(missing, len(back)))
    CaseEvent.objects.filter(case_id__in=back, action="evaluate").delete()
    Case.objects.filter(pk__in=back).update(state=State.CLOSED, satisfaction=None,
                                            followup_note="")


def _chunks(ids: list[int], size: int = 5000) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


# ---------------------------------------------------------------------- opinions


def _opinions(rng: random.Random, ring: Any, now: dt.datetime) -> int:
    """社情民意 and 咨询 sent on the public pages over the year: each handed to its grid's
    responsible worker; answered after 3–15 days when old enough."""
    topics = dict(OpinionTopic.objects.values_list("code", "pk"))
    workers = list(RoleAssignment.objects.filter(
        role=Role.GRID_WORKER, responsible=True, ended_on__isnull=True)
        .order_by("grid_id").values_list("grid_id", "person_id"))
    opinions = [o for o in fieldtext.OPINIONS if o[0] in topics]
    questions = [q for q in QUESTIONS if q[0] in topics]
    year = Case.objects.filter(created_at__gte=now - dt.timedelta(days=365)).count()
    n = round(RESIDENT_OPINIONS_PER_CASE * year) if workers and opinions else 0
    ids = allocate_ids(Opinion, n)
    rows = []
    for pk in ids:
        grid, person = rng.choice(workers)
        at = now - dt.timedelta(days=rng.uniform(0.2, 365))
        if rng.random() < 0.4 and questions:
            kind, (topic, content, answer) = "question", rng.choice(questions)
        else:
            (topic, content), answer = rng.choice(opinions), "已转相关部门研究办理，感谢您的建议"
            kind = "opinion"
        age = (now - at).days
        answered = age > 15 and rng.random() < 0.8
        forwarded = answered or (age > 3 and rng.random() < 0.8)
        phone = _phone(rng) if rng.random() < 0.5 else ""
        rows.append((
            pk, person, grid, topics[topic], content, Opinion.Source.RESIDENT, 1, "normal",
            Opinion.State.ANSWERED if answered else Opinion.State.FORWARDED if forwarded
            else Opinion.State.RECORDED, answer if answered else "", kind,
            public_number(pk, at), new_follow_code(),
            crypto.seal(phone, ring) if phone else None, mask_phone(phone) if phone else "",
            db_datetime(at), db_datetime(at + dt.timedelta(days=1)) if forwarded else None,
            db_datetime(at + dt.timedelta(days=rng.randint(3, 15))) if answered else None))
    insert_rows(Opinion, ["id", "author_id", "grid_id", "topic_id", "content", "source",
                          "people_concerned", "urgency", "state", "answer", "kind",
                          "public_no", "follow_code", "phone_enc", "phone_masked",
                          "collected_at", "forwarded_at", "answered_at"], rows)
    return len(rows)
