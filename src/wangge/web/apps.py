from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "wangge.web"
    label = "web"
    verbose_name = _("界面")

    def ready(self) -> None:
        from wangge.web import checks  # noqa: F401 (registers the deployment checks)
