from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "wangge.analytics"
    label = "analytics"
    verbose_name = _("统计分析")

    def seed_defaults(self) -> str:
        """For `wangge setup`: the default evaluation schemes (schemes.json), where missing."""
        from wangge.analytics.schemes import do_seed_schemes

        added = do_seed_schemes()
        return f"seeded evaluation schemes {', '.join(added)}" if added else ""
