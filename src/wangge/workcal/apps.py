from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalConfig(AppConfig):
    name = "wangge.workcal"
    label = "workcal"
    verbose_name = _("工作日历与时限")

    def seed_defaults(self) -> str:
        """For `wangge setup`: years a newer chinesecalendar brought, and policies not yet
        present."""
        from wangge.workcal.actions import seed_defaults

        years, policies = seed_defaults()
        if not (years or policies.created):
            return ""
        return (f"seeded calendar years {years or '-'}, "
                f"SLA policies {policies.created or '-'}")
