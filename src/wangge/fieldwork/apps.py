from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "wangge.fieldwork"
    label = "fieldwork"
    verbose_name = _("网格员工作")

    def ready(self) -> None:
        from wangge.fieldwork.actions import load_all

        load_all()  # registers the envelope kinds of every area
