from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "qms.portal"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from qms.core.registries import NavItem, register_nav_item

        register_nav_item(NavItem("dashboard", _("Dashboard"), "portal:dashboard", "portal.view", order=0))
        register_nav_item(NavItem("masterdata", _("Master data"), "core:master_data", "masterdata.view", order=900))
        register_nav_item(NavItem("import", _("Import"), "core:import", "masterdata.import", order=910))
