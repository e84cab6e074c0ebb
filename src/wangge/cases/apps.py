from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "wangge.cases"
    label = "cases"
    verbose_name = _("事件")

    def ready(self) -> None:
        # a line department reads the register and the staff where its cases are
        from wangge.cases.access import department_case_grids
        from wangge.org.access import add_department_reach

        add_department_reach(department_case_grids)
