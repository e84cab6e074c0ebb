"""Django settings, read from the environment.

WANGGE_DATA_DIR      data directory (default ./var): SQLite file, secret key, data keys
WANGGE_DATABASE_URL  database URL (default sqlite:///<data dir>/wangge.sqlite3)
WANGGE_DEBUG         "1"/"true" turns debug on
WANGGE_SECRET_KEY    overrides the generated secret key
WANGGE_PUBLIC_URL    base URL printed on QR codes (default http://127.0.0.1:8000)
WANGGE_ALLOWED_HOSTS comma-separated host names (default: localhost names, or * in debug)
WANGGE_OFFICE_HOURS  office hours for working-hour clocks (default 08:30-12:00,14:30-17:30)
WANGGE_OUTBOX_*, WANGGE_WEBHOOK_TIMEOUT_S, WANGGE_WORKER_JOBS   the worker: docs/worker.md
WANGGE_PG_JIT        "on" keeps PostgreSQL's JIT (default: off for every connection)
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("WANGGE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use WANGGE_SECRET_KEY, else a key generated once and kept in the data dir."""
    if key := os.environ.get("WANGGE_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("WANGGE_DEBUG")
PUBLIC_URL = os.environ.get("WANGGE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

_hosts = os.environ.get("WANGGE_ALLOWED_HOSTS")
if _hosts:
    ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()]
else:
    ALLOWED_HOSTS = ["*"] if DEBUG else ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_htmx",
    "captcha",
    "wangge.core",
    "wangge.territory",
    "wangge.org",
    "wangge.registry",
    "wangge.cases",
    "wangge.workcal",
    "wangge.fieldwork",
    "wangge.services",
    "wangge.disputes",
    "wangge.analytics",
    "wangge.integration",
    "wangge.open311",
    "wangge.demo",
    "wangge.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "wangge.web.limits.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wangge.urls"
WSGI_APPLICATION = "wangge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("WANGGE_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'wangge.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif (DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
      and os.environ.get("WANGGE_PG_JIT", "off") != "on"):
    # No JIT compilation: our queries are short, but the planner overestimates some (the
    # cockpit's late cases: 91,000 rows estimated, 5,400 found at 2M cases) past
    # jit_above_cost, and compiling then cost 1.5 s of a 0.9 s query (benchmarks/README.md).
    # Added to what the URL's ?options= gave; WANGGE_PG_JIT=on leaves JIT alone (a pooler
    # that refuses startup options, or a reporting replica that wants it).
    pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    pg_options["options"] = f"{pg_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Lockout after repeated failed logins (django-axes, web/login_limits.py): 5 failures per
# user name and address lock that pair for 15 minutes; 30 from one address, whatever names it
# tries, lock that address. Behind a reverse proxy, list it in WANGGE_TRUSTED_PROXIES
# (addresses or networks, comma-separated) so the client's address is read from its
# X-Forwarded-For; otherwise every login would share the proxy's address.
AXES_FAILURE_LIMIT = int(os.environ.get("WANGGE_LOGIN_FAILURE_LIMIT", "5"))
WANGGE_LOGIN_ADDRESS_LIMIT = int(os.environ.get("WANGGE_LOGIN_ADDRESS_LIMIT", "30"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_HANDLER = "wangge.web.login_limits.LoginLimitHandler"
AXES_CLIENT_IP_CALLABLE = "wangge.web.login_limits.client_address"
WANGGE_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("WANGGE_TRUSTED_PROXIES", "").split(",")
                          if p.strip()]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing one before setup
# Leaflet's files come from the django-leaflet package. Only its static folder is used: as an
# installed app, its admin module imports GeoDjango, which needs the GDAL system library.
_leaflet = importlib.util.find_spec("leaflet")
STATICFILES_DIRS = [Path(next(iter(_leaflet.submodule_search_locations))) / "static"] if (
    _leaflet and _leaflet.submodule_search_locations) else []
# Libraries from npm (package.json, `npm ci` by the Makefile into the git-ignored
# node_modules/ at the repository root), each under its own prefix.
_NODE_MODULES = Path(os.environ.get("WANGGE_NODE_MODULES",
                                    BASE_DIR.parent.parent / "node_modules"))
STATICFILES_DIRS += [(prefix, _NODE_MODULES / folder) for prefix, folder in (
    ("markercluster", "leaflet.markercluster/dist"),
    # figures (analytics): charts, and the heat layer of the hot-spot map
    ("echarts", "echarts/dist"),
    ("leaflet-heat", "leaflet.heat/dist"),
    # the field app (/app/): IndexedDB through Dexie, the service worker through Workbox,
    # whose modules workbox-sw loads from here (fieldwork/static/fieldwork/app/sw.js)
    ("dexie", "dexie/dist"),
    ("workbox-sw", "workbox-sw/build"),
    ("workbox-core", "workbox-core/build"),
    ("workbox-precaching", "workbox-precaching/build"),
    ("workbox-routing", "workbox-routing/build"),
    ("workbox-strategies", "workbox-strategies/build"),
) if (_NODE_MODULES / folder).is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the map's fetch() reads it for the session-authenticated API
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Served over HTTPS (WANGGE_HTTPS=1), usually behind a reverse proxy that terminates TLS and
# sets X-Forwarded-Proto: cookies only over HTTPS, HSTS, plain HTTP redirected.
# `wangge manage check --deploy` is clean with it (docs/operations.md).
HTTPS = _flag("WANGGE_HTTPS")
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("WANGGE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # the health check is called by load balancers over plain HTTP inside the network
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    CSRF_TRUSTED_ORIGINS = [PUBLIC_URL] if PUBLIC_URL.startswith("https://") else []

# Limits at the door (web/limits.py): a body that is not an upload may be at most
# WANGGE_MAX_BODY_BYTES; an upload at most the photos of one stage plus that. Django's own
# limit on form fields is the same number, so both answer alike.
WANGGE_MAX_BODY_BYTES = int(os.environ.get("WANGGE_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = WANGGE_MAX_BODY_BYTES
FILE_UPLOAD_HANDLERS = [
    "wangge.web.limits.PhotoSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LEAFLET_CONFIG = {"NO_GLOBALS": False}
# Base-map tiles are optional: the default is none, so the console works without any
# outside host; a city sets its own tile server URL template here.
WANGGE_TILE_URL = os.environ.get("WANGGE_TILE_URL", "")


# --- Content-Security-Policy (django-csp 4, csp.middleware.CSPMiddleware) -----------------
# No inline script, no inline style, nothing from another origin except the base-map tiles:
# data that slips into markup cannot run. Templates load every script and stylesheet from
# /static/ (JSON for scripts goes through json_script, which the browser never executes).
# Leaflet positions its panes through element.style (CSSOM), which style-src does not
# govern, so styles need no 'unsafe-inline'. Images: our own, data:/blob: (Leaflet, photo
# previews) and the origin of WANGGE_TILE_URL ("{s}" subdomains become "*.").
def _tile_origin(template: str) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(template.replace("{s}", "*"))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None  # empty, or a relative URL already covered by 'self'
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


_TILE_ORIGIN = _tile_origin(WANGGE_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
# --- end of Content-Security-Policy -------------------------------------------------------

# Cases: register numbers (挂号) look like LL-2026-000123; possible duplicates are the same
# category within this radius and window.
WANGGE_CASE_PREFIX = os.environ.get("WANGGE_CASE_PREFIX", "LL")
WANGGE_DUPLICATE_RADIUS_M = float(os.environ.get("WANGGE_DUPLICATE_RADIUS_M", "50"))
WANGGE_DUPLICATE_HOURS = float(os.environ.get("WANGGE_DUPLICATE_HOURS", "24"))
# Case photos: JPEG, PNG or WebP up to this size, at most this many per case and stage.
WANGGE_PHOTO_MAX_BYTES = int(os.environ.get("WANGGE_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
WANGGE_PHOTOS_PER_STAGE = int(os.environ.get("WANGGE_PHOTOS_PER_STAGE", "9"))
# Working-hour clocks count only these office hours of working days (docs/workcal.md).
WANGGE_OFFICE_HOURS = os.environ.get("WANGGE_OFFICE_HOURS", "08:30-12:00,14:30-17:30")

# The worker (`wangge worker`, docs/worker.md). Outbox deliveries: retry after
# base * 2**(attempt-1) seconds (jittered, capped), dead-letter after MAX_ATTEMPTS; a claimed
# delivery is leased for LEASE_S seconds, after which a dead worker's claim lapses.
WANGGE_OUTBOX_BACKOFF_BASE_S = float(os.environ.get("WANGGE_OUTBOX_BACKOFF_BASE_S", "30"))
WANGGE_OUTBOX_BACKOFF_MAX_S = float(os.environ.get("WANGGE_OUTBOX_BACKOFF_MAX_S", "3600"))
WANGGE_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("WANGGE_OUTBOX_MAX_ATTEMPTS", "8"))
WANGGE_OUTBOX_LEASE_S = float(os.environ.get("WANGGE_OUTBOX_LEASE_S", "60"))
WANGGE_OUTBOX_BATCH = int(os.environ.get("WANGGE_OUTBOX_BATCH", "10"))
WANGGE_WEBHOOK_TIMEOUT_S = float(os.environ.get("WANGGE_WEBHOOK_TIMEOUT_S", "10"))
# Senders by subscription kind; the 12345 and digital-city-management adapters add theirs.
WANGGE_OUTBOX_SENDERS = {
    "log": "wangge.integration.senders.LogSender",
    "webhook": "wangge.integration.senders.WebhookSender",
    # SLA warnings and breaches → in-app notifications to the people responsible
    "responsible": "wangge.integration.senders.ResponsibleSender",
    # the adapters of external systems (docs/external-systems.md): an Adapter row's kind
    "hotline_12345": "wangge.integration.adapters.hotline_12345.Sender",
    "city_management": "wangge.integration.adapters.city_management.Sender",
}
# Periodic jobs: dotted paths to callables taking no argument or `now`, run by one worker
# at a time every `--sweep-every` seconds. WANGGE_WORKER_JOBS (comma-separated) replaces it.
WANGGE_WORKER_JOBS: list[str] = (
    [j.strip() for j in os.environ["WANGGE_WORKER_JOBS"].split(",") if j.strip()]
    if "WANGGE_WORKER_JOBS" in os.environ
    else ["wangge.cases.jobs.sweep", "wangge.fieldwork.jobs.build_plans",
          "wangge.services.jobs.sweep", "wangge.disputes.jobs.sweep",
          "wangge.analytics.jobs.rollup",
          "wangge.analytics.jobs_report.monthly_report",
          "wangge.integration.reconcile.reconcile"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# --- public channels (issue 14): residents report, follow and rate; Open311 ------------------
# Abuse protection for the resident's report (cases.public_limits): counters per client
# address and per phone in Django's cache. Past the "challenge" figure within the window a
# captcha (django-simple-captcha) is asked for; past the hard caps the report is refused
# with 429 and a message in Chinese. One resident reporting one thing meets none of them.
WANGGE_RESIDENT_CHALLENGE_AFTER = int(os.environ.get("WANGGE_RESIDENT_CHALLENGE_AFTER", "3"))
WANGGE_RESIDENT_CHALLENGE_WINDOW_S = int(os.environ.get("WANGGE_RESIDENT_CHALLENGE_WINDOW_S",
                                                        "600"))
WANGGE_RESIDENT_PER_ADDRESS_HOUR = int(os.environ.get("WANGGE_RESIDENT_PER_ADDRESS_HOUR", "20"))
WANGGE_RESIDENT_PER_PHONE_DAY = int(os.environ.get("WANGGE_RESIDENT_PER_PHONE_DAY", "10"))
WANGGE_RESIDENT_DESCRIPTION_MAX = 2000
# Open311 GeoReport v2 (`open311`): the jurisdiction this server answers for, and whether
# reading (GET) needs an api_key too (default no: the same as the public status page).
WANGGE_OPEN311_JURISDICTION = os.environ.get("WANGGE_OPEN311_JURISDICTION", "liling.hunan.cn")
WANGGE_OPEN311_GET_NEEDS_KEY = os.environ.get("WANGGE_OPEN311_GET_NEEDS_KEY", "") == "1"
CAPTCHA_IMAGE_SIZE = (120, 44)
CAPTCHA_FONT_SIZE = 32
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 10  # minutes
