from django.contrib import admin
from django.urls import include, path

from wangge.api import api
from wangge.cases.urls import public_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/registry/", include("wangge.registry.urls")),
    path("console/cases/", include("wangge.cases.urls")),
    path("console/calendar/", include("wangge.workcal.urls")),
    path("console/outbox/", include("wangge.integration.urls")),
    path("console/systems/", include("wangge.integration.systems_urls")),
    path("integration/systems/", include("wangge.integration.inbound_urls")),
    path("integration/attachments/", include("wangge.integration.attachment_urls")),
    path("console/fieldwork/", include("wangge.fieldwork.urls")),
    path("console/services/", include("wangge.services.urls")),
    path("console/disputes/", include("wangge.disputes.urls")),
    path("console/analytics/", include("wangge.analytics.urls")),
    path("open-data/", include("wangge.analytics.public_urls")),
    path("app/", include("wangge.fieldwork.app_urls")),
    path("services/", include("wangge.services.public_urls")),
    path("cases/", include((public_urlpatterns, "cases_public"))),
    path("report/", include("wangge.cases.public_urls")),
    path("opinions/", include("wangge.fieldwork.public_urls")),
    path("open311/v2/", include("wangge.open311.urls")),
    path("console/open311/", include("wangge.open311.console_urls")),
    path("captcha/", include("captcha.urls")),
    path("", include("wangge.web.urls")),
]
