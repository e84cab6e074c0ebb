from django.contrib import admin

from wangge.core.admin import ReadOnlyAdminMixin
from wangge.territory.actions import do_update_grid
from wangge.territory.models import Grid, TerritoryState


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    """Names and tree browsing here; boundaries change through `wangge grids import` (or
    the API), where the whole tree is validated."""

    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "level", "kind", "parent", "path", "min_lng", "min_lat",
                       "max_lng", "max_lat", "label_lng", "label_lat", "qr_token", "updated_at"]
    exclude = ["boundary"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Through the action, so the rename is audited and bumps the territory version.
        do_update_grid(Grid.objects.get(pk=obj.pk), name=obj.name, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TerritoryState)
class TerritoryStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "changed_at"]
    readonly_fields = ["version", "changed_at"]
