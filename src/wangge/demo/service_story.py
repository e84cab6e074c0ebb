"""The service hall's demo stories, walked through the real actions (audited, with outbox
messages, files and signatures), like the case and fieldwork stories:

- `five_seniors`: five elderly residents of one building in `gridworker`'s grid booked
  their 老年证 annual review (老年人优待证（老年证）办理与年审) by phone and stayed at
  home; the worker collected the five in one visit (photos, the 委托书 signed on the
  phone), `civil_affairs` (民政局) pre-reviewed and passed them and marked the cards ready,
  the worker delivered them with the recipients' signatures and a photo, and each rated it.
- `book_for_today`: the worker's plan today — five other elderly residents of the same
  building (the five oldest) booked for the same item (the fieldwork demo's appointments,
  now real proxy requests, so the field app shows them grouped by building).

The signatures and photos are small synthetic PNGs drawn here; the residents are the
register's synthetic ones.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db import transaction

from wangge.fieldwork import plan_sources
from wangge.fieldwork.actions.uploads import do_upload
from wangge.org.models import Person
from wangge.registry.models import Resident
from wangge.services.actions.applications import do_check_material, do_decide
from wangge.services.actions.proxy import (
    do_book_proxy,
    do_collect,
    do_deliver,
    do_mark_ready,
    do_rate_proxy,
    do_submit_proxy,
)
from wangge.services.models import ProxyRequest, ServiceItem

#: how the demo finds the 老年证 item in whatever catalogue is loaded
ELDERLY_CARD = "老年人优待证"
SENIORS = 5
ELDERLY_AGE = 60
WORKER, REVIEWER = "gridworker", "civil_affairs"


def elderly_card_item() -> ServiceItem | None:
    return (ServiceItem.objects.filter(name__contains=ELDERLY_CARD, proxy_eligible=True,
                                       active=True, current__isnull=False)
            .order_by("code").first())


def picture(seed: int, *, signature: bool) -> bytes:
    """A small synthetic PNG: a scribbled signature on white, or a grey 'photo'."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 160), "white" if signature else (200, 205, 210))
    draw = ImageDraw.Draw(img)
    points = [(20 + i * 28, 80 + ((seed * 37 + i * 53) % 60) - 30) for i in range(11)]
    draw.line(points, fill="black" if signature else (90, 100, 120), width=4)
    if not signature:
        draw.rectangle((110, 40, 210, 120), outline=(60, 60, 60), width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def elderly_by_building(grid_id: int, today: dt.date) -> list[list[Resident]]:
    """The grid's residents aged 60 or more, per building, the buildings with the most
    first (ties by building id), each oldest first."""
    try:
        born_by = today.replace(year=today.year - ELDERLY_AGE)
    except ValueError:  # 29 February
        born_by = dt.date(today.year - ELDERLY_AGE, 2, 28)
    groups: dict[int, list[Resident]] = defaultdict(list)
    for r in (Resident.objects.filter(grid_id=grid_id, birth_date__lte=born_by,
                                      moved_out__isnull=True, house__isnull=False)
              .select_related("house").order_by("birth_date", "pk")):
        groups[r.house.building_id].append(r)
    return [g for _b, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def book_for_today(person: Person, grid_id: int, residents: Sequence[Resident],
                   first: dt.datetime) -> int | None:
    """Real proxy requests for the fieldwork demo's elderly appointments of today (half an
    hour apart from `first`); None when there is no 老年证 item to book (no catalogue)."""
    item = elderly_card_item()
    user = get_user_model().objects.filter(pk=person.user_id).first()
    if item is None or user is None:
        return None
    for i, r in enumerate(residents):
        do_book_proxy(user, item_code=item.code, grid_id=grid_id, applicant={"name": r.name},
                      at=first + dt.timedelta(minutes=30 * i),
                      channel=ProxyRequest.Channel.PHONE, resident_id=r.pk,
                      note="约好不出门，等网格员上门代办老年证年审")
    return len(residents)


def five_seniors(today: dt.date) -> dict[str, int]:
    """The whole trip for five seniors of one building (see the module docstring). Returns
    what it made: `story_proxies` (5), `story_building`, `story_delivered`, `story_rated`,
    and the first request's id (`story_first`). Empty when the catalogue, the worker or
    the reviewer is missing."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[WORKER, REVIEWER])}
    item = elderly_card_item()
    person = Person.objects.filter(user__username=WORKER).first()
    if item is None or len(users) < 2 or person is None:
        return {}
    worker, reviewer = users[WORKER], users[REVIEWER]
    grid = plan_sources.worker_grids([person.pk]).get(person.pk)
    buildings = [b for b in elderly_by_building(grid.pk, today) if len(b) >= SENIORS] if grid \
        else []
    if not buildings:
        return {}
    # today's bookings (book_for_today) are the five oldest of the largest building; the
    # story is the next five there, or five of the next building, never the same people
    # where the grid has ten
    first = buildings[0]
    if len(first) >= 2 * SENIORS:
        seniors = first[SENIORS:2 * SENIORS]
    elif len(buildings) > 1:
        seniors = buildings[1][:SENIORS]
    else:
        seniors = first[:SENIORS]
    required = [m["key"] for m in item.current.materials if m.get("required", True)]
    made: list[ProxyRequest] = []
    with transaction.atomic():
        for r in seniors:
            made.append(do_book_proxy(
                worker, item_code=item.code, grid_id=grid.pk, applicant={"name": r.name},
                channel=ProxyRequest.Channel.PHONE, resident_id=r.pk,
                note="五位老人约好不出门，一起等网格员上门办理老年证年审"))
        for i, (p, r) in enumerate(zip(made, seniors, strict=True)):
            photo, _new = do_upload(worker, picture(100 + i, signature=False), "image/png")
            sign, _new = do_upload(worker, picture(i, signature=True), "image/png")
            do_collect(worker, p, materials={k: [photo.sha256] for k in required},
                       signature=sign.sha256, signer_name=r.name,
                       originals=[{"name": "老年人优待证", "count": 1}])
            do_submit_proxy(worker, p)
        for p in made:
            p.refresh_from_db()
            for key in required:
                do_check_material(reviewer, p.application, key, "accepted")
            do_decide(reviewer, p.application, "pass")
            do_mark_ready(reviewer, ProxyRequest.objects.get(pk=p.pk), "老年证年审已办结")
        for i, (p, r) in enumerate(zip(made, seniors, strict=True)):
            sign, _new = do_upload(worker, picture(50 + i, signature=True), "image/png")
            photo, _new = do_upload(worker, picture(150 + i, signature=False), "image/png")
            p = ProxyRequest.objects.get(pk=p.pk)
            do_deliver(worker, p, recipient_name=r.name, signature=sign.sha256,
                       photo=photo.sha256, originals_returned=True)
            do_rate_proxy(worker, ProxyRequest.objects.get(pk=p.pk), 5,
                          "网格员上门收、上门送，老人一趟都没跑")
    ids = [p.pk for p in made]
    done = ProxyRequest.objects.filter(pk__in=ids)
    return {"story_proxies": len(ids), "story_first": ids[0],
            "story_building": seniors[0].house.building_id,
            "story_delivered": done.filter(delivered_at__isnull=False).count(),
            "story_rated": done.filter(state=ProxyRequest.State.RATED).count()}
