from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "wangge.disputes"
    label = "disputes"
    verbose_name = _("矛盾纠纷调解")

    def ready(self) -> None:
        from wangge.disputes.actions import load_all

        load_all()  # registers the field app's envelope kinds of screening and mediation

        from wangge.disputes.offline import disputes_section
        from wangge.fieldwork.offline import add_offline_section

        # the 13 kinds, the worker's grid's open disputes and its screening period
        add_offline_section("disputes", disputes_section)

    #: the field app's screens of screening and mediation (fieldwork.views_app reads these
    #: from every app config: fieldwork imports no upper app)
    field_app_scripts = ("disputes/app/disputes.js",)
    field_app_styles = ("disputes/app/disputes.css",)

    def field_app_messages(self) -> dict[str, str]:
        """The words of those screens, translated per request (the scripts carry none)."""
        from wangge.disputes.offline import app_messages

        return app_messages()

    def seed_defaults(self) -> str:
        """For `wangge setup`: the 13 kinds, the monthly screening rule and the stage clocks,
        where missing."""
        from wangge.disputes.actions.seeds import do_seed_disputes

        added = {k: n for k, n in do_seed_disputes().items() if n}
        return ("seeded disputes " + ", ".join(f"{k} {n}" for k, n in added.items())
                if added else "")
