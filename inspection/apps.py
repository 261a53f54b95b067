from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    name = "inspection"
    verbose_name = _("Inspection")

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
        from traceability import gates, overlays
        from traceability.signals import lot_received

        from . import checks, reports, selectors
        from .demo import seed_history_import, seed_inspection
        from .scan import resolve_scan
        from .signals import inspection_accepted, inspection_rejected
        from .spc_services import on_inspection_completed

        lot_received.connect(_on_lot_received, dispatch_uid="inspection_iqc_from_lot")
        inspection_accepted.connect(on_inspection_completed, dispatch_uid="inspection_spc_accepted")
        inspection_rejected.connect(on_inspection_completed, dispatch_uid="inspection_spc_rejected")
        gates.register_receipt_check(checks.receipt_check)
        gates.register_release_check(checks.release_check)
        gates.register_work_order_check(checks.work_order_check)
        gates.register_operation_start_check(checks.operation_start_check)
        overlays.register_overlay(selectors.trace_overlay)
        overlays.register_overlay(selectors.release_overlay)
        gates.register_history_release(_release_history)
        register_nav_item(
            NavItem("inspection_worklist", _("Worklist"), "inspection:worklist", "inspection.perform", order=40)
        )
        register_nav_item(
            NavItem("inspection_plans", _("Inspection plans"), "inspection:plans", "inspection.view", order=41)
        )
        register_nav_item(
            NavItem(
                "inspection_spc",
                _("Process parameters (SPC)"),
                "inspection:spc_parameters",
                "inspection.view",
                order=42,
            )
        )
        register_dashboard_tile(selectors.dashboard_tiles)
        register_scan_resolver(ScanResolver("inspection", resolve_scan, order=10))
        register_demo_seeder(DemoSeeder("inspection", seed_inspection, order=300))
        from .spc_demo import seed_spc

        register_demo_seeder(DemoSeeder("inspection_spc", seed_spc, order=310))
        register_demo_seeder(DemoSeeder("inspection_history_import", seed_history_import, order=320))
        from .demo import seed_plan_documents

        register_demo_seeder(DemoSeeder("inspection_documents", seed_plan_documents, order=330))
        register_periodic_job(
            PeriodicJob(
                name="inspection.ipqc_due",
                task="inspection.tasks.ipqc_due",
                every_seconds=300,
                description="IPQC patrol checks: create due checks, remind inspectors, warn supervisors when overdue.",
            )
        )
        reports.register()
        reports.register_capability()
        from suppliers.ppap_evidence import register_ppap_evidence

        from .spc_charts import ppap_capability_evidence

        register_ppap_evidence(ppap_capability_evidence)
        _register_kpis()
        from . import tasks  # noqa: F401  (registers the Celery tasks)


def _on_lot_received(sender, lot, **kwargs):
    from .services import iqc_create_for_lot

    iqc_create_for_lot(lot=lot)


def _register_kpis() -> None:
    from django.db.models import Count

    from qms.core.kpis import LOWER, Kpi, register_kpi

    register_kpi(
        Kpi(
            key="spc.signals",
            label=_("SPC out-of-control signals"),
            definition=_(
                "Nelson-rule violations of frozen control limits (one per subgroup, characteristic and rule), "
                "counted on the day the subgroup's inspection was completed."
            ),
            unit="count",
            better=LOWER,
            model="inspection.SpcSignal",
            time_field="at",
            numerator=lambda: Count("id"),
            dimensions={"line": "line__code", "part": "part__number"},
            code_field="inspection__code",
            url_name="inspection:detail",
            order=60,
        )
    )


def _release_history(**kwargs):
    from .services import lot_release_history

    return lot_release_history(**kwargs)
