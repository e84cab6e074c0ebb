"""The installable field app under /app/: the shell page, the web app manifest, the service
worker and its icons. The shell holds no data of the worker: everything comes from the API
(offline data, sync) and lives in IndexedDB, so the service worker can cache the shell."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

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
    "fieldwork/app/app.js",
    "dexie/dexie.min.js",
)
#: the Workbox modules the service worker imports (from node_modules, never the CDN)
WORKBOX_MODULES = ("workbox-core", "workbox-precaching", "workbox-routing",
                   "workbox-strategies")
ICON_SIZES = (192, 512)


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
    }


@require_safe
@ensure_csrf_cookie  # the scripts send the cookie's token as X-CSRFToken
def shell(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "fieldwork/app/login.html", {})
    return render(request, "fieldwork/app/shell.html", {"messages_json": messages()})


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
    entries = [{"url": static(p), "revision": _file_revision(p)} for p in APP_STATIC]
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
