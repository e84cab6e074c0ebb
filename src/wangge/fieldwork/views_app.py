"""The installable field app under /app/: the shell page, the web app manifest, the service
worker and its icons. The shell holds no data of the worker: everything comes from the API
(offline data, sync) and lives in IndexedDB, so the service worker can cache the shell."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from wangge.fieldwork.icons import draw_icon

#: the app's own static files and the npm libraries it runs on, precached for offline use
APP_STATIC = (
    "fieldwork/app/app.css",
    "fieldwork/app/queue.js",
    "fieldwork/app/screens.js",
    "fieldwork/app/proxy.js",
    "fieldwork/app/app.js",
    "dexie/dexie.min.js",
)
#: the Workbox modules the service worker imports (from node_modules, never the CDN)
WORKBOX_MODULES = ("workbox-core", "workbox-precaching", "workbox-routing",
                   "workbox-strategies")
ICON_SIZES = (192, 512)


def _plugged(attribute: str) -> list[str]:
    """What the other apps add to the field app (fieldwork imports none of them): every app
    config may declare `field_app_scripts` / `field_app_styles` (static paths, loaded after
    fieldwork's own scripts and before app.js) and a `field_app_messages()` method (the
    words those scripts show, translated here like the rest)."""
    return [path for config in apps.get_app_configs()
            for path in getattr(config, attribute, ())]


def plugged_scripts() -> list[str]:
    return _plugged("field_app_scripts")


def plugged_styles() -> list[str]:
    return _plugged("field_app_styles")


def plugged_messages() -> dict[str, str]:
    out: dict[str, str] = {}
    for config in apps.get_app_configs():
        words = getattr(config, "field_app_messages", None)
        if callable(words):
            out.update(words())
    return out


def app_static() -> list[str]:
    """Every static file the app runs on: its own, the libraries, the plugged-in screens."""
    return [*APP_STATIC, *plugged_styles(), *plugged_scripts()]


def messages() -> dict[str, str]:
    """The words the app's scripts show, translated here (the scripts carry none)."""
    return {
        "queued": _("已保存，等待同步"), "synced": _("同步完成"), "offline": _("离线"),
        "online": _("在线"), "sync_failed": _("同步失败，稍后自动重试"),
        "login": _("请先登录"), "no_data": _("还没有离线数据，请联网后同步"),
        "locating": _("正在定位…"), "no_location": _("无法定位，已记录无定位"),
        "patrol_on": _("巡查中"), "patrol_off": _("未开始巡查"), "points": _("轨迹点"),
        "conflict": _("冲突：服务器上的记录已被修改"), "keep_server": _("以服务器为准"),
        "reapply": _("用我的修改重新提交"), "server_copy": _("服务器上的记录"),
        "mine": _("我的修改"), "failed": _("未通过"), "done": _("已同步"),
        "pending": _("待同步"), "never": _("从未同步"), "required": _("请填写必填项"),
        "ok": _("正常"), "problem": _("有问题"), "report_case": _("同时上报事件"),
        "saved_edit": _("修改已保存，等待同步"), "no_plan": _("今天没有安排"),
        "residents": _("居民"), "houses": _("房屋"), "edit": _("修改"),
        "phone": _("联系电话"), "save": _("保存"), "checked_in": _("今日已报到"),
        "discard": _("放弃这条"), "discarded": _("已放弃"), "resolved": _("已处理"),
        **proxy_messages(),
        **plugged_messages(),
    }


def proxy_messages() -> dict[str, str]:
    """The words of the 代办 screens (static/fieldwork/app/proxy.js)."""
    return {
        "proxy.none": _("没有待办的代办事项"), "proxy.no_building": _("其他地址"),
        "proxy.no": _("代办编号"), "proxy.applicant": _("申请人"), "proxy.address": _("上门地址"),
        "proxy.state": _("状态"), "proxy.at": _("预约时间"), "proxy.item": _("事项"),
        "proxy.originals": _("收取原件"),
        "proxy.photos": _("张照片"), "proxy.take_photo": _("拍照"),
        "proxy.required": _("必交"), "proxy.optional": _("视情况"),
        "proxy.original_name": _("原件名称"), "proxy.count": _("份数"),
        "proxy.remove": _("删除"),
        "proxy.auth_text": _("本人{signer}委托本网格网格员代为办理“{item}”，并提交相关材料。"),
        "proxy.auth_signer": _("（签字人）"),
        "proxy.need_photo": _("请先拍摄材料：{name}"),
        "proxy.need_signer": _("请填写委托人姓名"), "proxy.need_sign": _("请居民签名"),
        "proxy.need_recipient": _("请填写签收人姓名"),
        "proxy.need_recipient_sign": _("请签收人签名"),
        "proxy.need_delivery_photo": _("请拍一张送达照片"),
        "proxy.need_rating": _("请选择满意度"),
        "proxy.collected": _("已收件，等待同步后送部门预审"),
        "proxy.delivered": _("已送达，请居民评价"), "proxy.rated": _("已评价，等待同步"),
        "proxy.local_collected": _("已收件（待同步）"),
        "proxy.local_in_review": _("已收件，待同步后预审"),
        "proxy.local_delivered": _("已送达（待同步）"),
        "proxy.local_rated": _("已评价（待同步）"),
        "proxy.wait": _("部门预审或办理中，结果出来后再送证上门"),
        "proxy.refused": _("未通过，请处理："),
        "proxy.kind.proxy.collect": _("代办收件"), "proxy.kind.proxy.submit": _("代办提交预审"),
        "proxy.kind.proxy.recollect": _("代办补正材料"),
        "proxy.kind.proxy.deliver": _("送证上门"), "proxy.kind.proxy.rate": _("代办评价"),
        "proxy.kind.proxy.book": _("代办预约"),
    }


@require_safe
@ensure_csrf_cookie  # the scripts send the cookie's token as X-CSRFToken
def shell(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "fieldwork/app/login.html", {})
    return render(request, "fieldwork/app/shell.html", {
        "messages_json": messages(), "plugged_scripts": plugged_scripts(),
        "plugged_styles": plugged_styles()})


def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("网格通 · 网格员"), "short_name": _("网格通"), "lang": "zh-CN",
        "start_url": "/app/", "scope": "/app/", "display": "standalone",
        "orientation": "portrait", "background_color": "#f4f6f8", "theme_color": "#b3261e",
        "icons": [{"src": f"/app/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png",
                   "purpose": "any maskable"} for n in ICON_SIZES],
    }
    return JsonResponse(data, content_type="application/manifest+json",
                        json_dumps_params={"ensure_ascii": False})


def icon(request: HttpRequest, size: int) -> HttpResponse:
    if size not in ICON_SIZES:
        return HttpResponse(status=404)
    response = HttpResponse(draw_icon(size), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _file_revision(path: str) -> str:
    found = finders.find(path)
    if not found:
        return "missing"
    with open(found, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def _precache() -> list[dict[str, str]]:
    entries = [{"url": static(p), "revision": _file_revision(p)} for p in app_static()]
    # the shell changes when its template or any script does
    shell_src = get_template("fieldwork/app/shell.html").template.source
    shell_rev = hashlib.sha256((shell_src + json.dumps(entries, sort_keys=True)
                                + json.dumps(messages(), ensure_ascii=False)).encode())
    entries += [{"url": "/app/", "revision": shell_rev.hexdigest()[:16]},
                {"url": "/app/manifest.webmanifest", "revision": "1"},
                *({"url": f"/app/icon-{n}.png", "revision": "1"} for n in ICON_SIZES)]
    return entries


_cached_precache = lru_cache(maxsize=1)(_precache)


@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    entries = _precache() if settings.DEBUG else _cached_precache()
    modules = {name: static(f"{name}/{name}.prod.js") for name in WORKBOX_MODULES}
    body = get_template("fieldwork/app/sw.js").render({
        "workbox_sw": static("workbox-sw/workbox-sw.js"),
        "modules_json": json.dumps(modules), "precache_json": json.dumps(entries),
    })
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/app/"
    return response
