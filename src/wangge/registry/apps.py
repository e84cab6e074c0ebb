from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "wangge.registry"
    label = "registry"
    verbose_name = _("基础信息")

    def ready(self) -> None:
        from wangge.core.crypto import register_hash_probe

        # validation.seal_resident: id_number_hash = blind_index(the number it seals), so
        # adopting keys for an old database can check the hash key on the newest resident
        register_hash_probe("registry.Resident", "id_number_enc", "id_number_hash")
