from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    """Open311 GeoReport v2 over `cases`: an interface app, no models of its own (its keys
    are the API tokens of `integration`; its requests are cases with a ResidentReport)."""

    name = "wangge.open311"
    label = "open311"
    verbose_name = _("Open311 接口")
