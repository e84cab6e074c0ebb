from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "wangge.disputes"
    label = "disputes"
    verbose_name = _("矛盾纠纷调解")

    def ready(self) -> None:
        from wangge.disputes.actions import load_all

        load_all()  # registers the field app's envelope kinds of screening and mediation

    def seed_defaults(self) -> str:
        """For `wangge setup`: the 13 kinds, the monthly screening rule and the stage clocks,
        where missing."""
        from wangge.disputes.actions.seeds import do_seed_disputes

        added = {k: n for k, n in do_seed_disputes().items() if n}
        return ("seeded disputes " + ", ".join(f"{k} {n}" for k, n in added.items())
                if added else "")
