from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapaConfig(AppConfig):
    name = "capa"
    verbose_name = _("CAPA")

    def ready(self):
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            ScanResolver,
            register_demo_seeder,
            register_nav_item,
            register_periodic_job,
            register_scan_resolver,
        )

        from . import integrations, reports
        from .demo import seed_demo

        register_nav_item(NavItem("capa", _("CAPA"), "capa:capa_list", "capa.view", order=500))
        register_scan_resolver(ScanResolver("CAPA", integrations.resolve_capa_code, order=62))
        register_scan_resolver(ScanResolver("SCAR", integrations.resolve_scar_code, order=63))
        for name, task, every, text in [
            ("capa.action_reminders", "capa.tasks.capa_action_reminders", 3600, "CAPA actions due soon or overdue."),
            ("capa.effectiveness_due", "capa.tasks.effectiveness_checks_due", 3600, "Effectiveness checks due."),
            ("capa.scar_reminders", "capa.tasks.scar_reminders", 3600, "Supplier responses to SCARs overdue."),
        ]:
            register_periodic_job(PeriodicJob(name=name, task=task, every_seconds=every, description=text))
        register_demo_seeder(DemoSeeder("capa", seed_demo, order=500))
        reports.register()
        integrations.connect()

        from qms.core.registries import register_dashboard_tile

        register_dashboard_tile(integrations.capa_tiles)
