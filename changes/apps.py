from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Change control")

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

        register_nav_item(NavItem("changes", _("Change control"), "changes:change_list", "changes.view", order=540))
        register_scan_resolver(ScanResolver("CHG", integrations.resolve_change_code, order=68))
        register_periodic_job(
            PeriodicJob(
                name="changes.reminders",
                task="changes.tasks.change_reminders",
                every_seconds=3600,
                description="Change tasks due or overdue (escalated), effectiveness checks due.",
            )
        )
        register_demo_seeder(DemoSeeder("changes", seed_demo, order=540))
        register_dashboard_tile(integrations.change_tiles)
        from documents.hooks import register_version_links

        register_version_links(integrations.document_version_changes)
        reports.register()
