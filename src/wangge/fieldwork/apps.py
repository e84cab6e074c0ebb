from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "wangge.fieldwork"
    label = "fieldwork"
    verbose_name = _("网格员工作")

    def ready(self) -> None:
        from wangge.fieldwork.actions import load_all

        load_all()  # registers the envelope kinds of every area

    def seed_defaults(self) -> str:
        """For `wangge setup`: the fieldwork catalogues and the default rule, where missing."""
        from wangge.fieldwork.actions.catalogue import do_seed_fieldwork

        added = {k: n for k, n in do_seed_fieldwork().items() if n}
        return ("seeded fieldwork " + ", ".join(f"{k} {n}" for k, n in added.items())
                if added else "")
