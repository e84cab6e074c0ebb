from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "wangge.services"
    label = "services"
    verbose_name = _("便民服务")

    def ready(self) -> None:
        from wangge.services.actions import load_all

        load_all()  # registers the field app's envelope kinds of proxy handling

        from wangge.fieldwork.offline import add_offline_section
        from wangge.services.actions.proxy_sync import open_proxies

        # the worker's open proxy requests, with each item's material checklist
        add_offline_section("proxies", open_proxies)

    def seed_defaults(self) -> str:
        """For `wangge setup`: synonym groups and stage clocks, where missing."""
        from wangge.services.actions.seeds import do_seed_services

        added = {k: n for k, n in do_seed_services().items() if n}
        return ("seeded services " + ", ".join(f"{k} {n}" for k, n in added.items())
                if added else "")
