from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self):
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            ScanResolver,
            register_demo_seeder,
            register_import_kind,
            register_nav_item,
            register_periodic_job,
            register_scan_resolver,
        )

        from . import importers, reports
        from .demo import seed_traceability
        from .scan import resolve_scan

        register_nav_item(NavItem("lots", _("Lots"), "traceability:lots", "lots.view", order=30))
        register_nav_item(NavItem("trace", _("Trace"), "traceability:trace", "trace.view", order=31))
        register_nav_item(NavItem("recalls", _("Recalls"), "traceability:recalls", "recall.view", order=32))
        register_scan_resolver(ScanResolver("lot", resolve_scan, order=20))
        register_demo_seeder(DemoSeeder("traceability", seed_traceability, order=200))
        register_import_kind(importers.LotImport())
        register_import_kind(importers.GenealogyImport())
        register_periodic_job(
            PeriodicJob(
                name="traceability.lots_expire",
                task="traceability.tasks.lots_expire",
                every_seconds=3600,
                description="Lots past their expiry date: status expired and an expiry hold.",
            )
        )
        reports.register()
        from . import tasks  # noqa: F401  (registers the Celery tasks)
