from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents and training")

    def ready(self):
        from compliance.signing_gates import register_signing_check
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            register_dashboard_tile,
            register_demo_seeder,
            register_nav_item,
            register_periodic_job,
        )

        from . import (
            importers,  # noqa: F401  (registers the import kinds)
            reports,
            services,  # noqa: F401  (marks the doors)
            tiles,
        )
        from .demo import seed_demo
        from .gate import training_gate_check

        register_nav_item(NavItem("documents", _("Documents"), "documents:list", "documents.view", order=150))
        register_nav_item(
            NavItem("documents.training", _("My training"), "documents:my_training", "training.view", order=155)
        )
        for name, task, every, text in [
            (
                "documents.effective_due",
                "documents.tasks.versions_effective_due",
                3600,
                "Approved document versions whose effective date has come become effective.",
            ),
            (
                "documents.review_reminders",
                "documents.tasks.review_reminders",
                24 * 3600,
                "Periodic review of controlled documents due soon or overdue.",
            ),
            (
                "documents.training_reminders",
                "documents.tasks.training_reminders",
                3600,
                "Training due soon; overdue training reminds the person and their manager.",
            ),
        ]:
            register_periodic_job(PeriodicJob(name=name, task=task, every_seconds=every, description=text))
        register_demo_seeder(DemoSeeder("documents", seed_demo, order=20))
        register_dashboard_tile(tiles.documents_tiles)
        register_signing_check("documents.training", training_gate_check)
        reports.register()
