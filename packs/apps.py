from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PacksConfig(AppConfig):
    name = "packs"
    verbose_name = _("Compliance packs")

    def ready(self):
        from compliance.retention import register_retention_guard
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            register_dashboard_tile,
            register_demo_seeder,
            register_nav_item,
        )
        from traceability.overlays import register_lot_action

        from . import reports
        from .demo import seed_demo
        from .retention import purge_guard
        from .selectors import dashboard_tiles, lot_bundle_action

        reports.register()
        register_retention_guard(purge_guard)
        register_lot_action(lot_bundle_action)
        register_nav_item(NavItem("packs", _("Compliance packs"), "packs:index", "packs.view", order=650))
        register_dashboard_tile(dashboard_tiles)
        register_demo_seeder(DemoSeeder("packs", seed_demo, order=950))
