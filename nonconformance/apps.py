from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NonconformanceConfig(AppConfig):
    name = "nonconformance"
    verbose_name = _("Nonconformance")

    def ready(self):
        from compliance.signatures import VOLATILE_FIELDS
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

        # Closing an NCR after its verification signature does not change what was verified.
        VOLATILE_FIELDS.setdefault("nonconformance.ncr", set()).update({"status", "closed_at"})

        register_nav_item(NavItem("ncr", _("NCRs"), "nonconformance:ncr_list", "ncr.view", order=400))
        register_nav_item(
            NavItem("complaints", _("Complaints"), "nonconformance:complaint_list", "ncr.view", order=410)
        )
        register_scan_resolver(ScanResolver("NCR", integrations.resolve_ncr_code, order=60))
        register_scan_resolver(ScanResolver("complaint", integrations.resolve_complaint_code, order=61))
        register_periodic_job(
            PeriodicJob(
                name="nonconformance.complaint_reminders",
                task="nonconformance.tasks.complaint_reminders",
                every_seconds=3600,
                description="Complaint responses due within 2 days, and overdue ones escalated.",
            )
        )
        register_demo_seeder(DemoSeeder("nonconformance", seed_demo, order=400))
        reports.register()
        integrations.connect()

        from qms.core.registries import register_dashboard_tile

        from .selectors import ncr_tiles

        register_dashboard_tile(ncr_tiles)
