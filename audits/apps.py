from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Internal audits")

    def ready(self):
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            ScanResolver,
            register_dashboard_tile,
            register_demo_seeder,
            register_nav_item,
            register_periodic_job,
            register_scan_resolver,
        )

        from . import integrations, reports, services  # noqa: F401 - services registers its doors
        from .demo import seed_demo

        register_nav_item(NavItem("audits", _("Internal audits"), "audits:audit_list", "audits.view", order=560))
        register_scan_resolver(ScanResolver("AUD", integrations.resolve_audit_code, order=70))
        register_periodic_job(
            PeriodicJob(
                name="audits.reminders",
                task="audits.tasks.audit_reminders",
                every_seconds=3600,
                description="Internal audits due or overdue, audit findings overdue.",
            )
        )
        register_demo_seeder(DemoSeeder("audits", seed_demo, order=560))
        register_dashboard_tile(integrations.audit_tiles)
        reports.register()
        integrations.connect()
