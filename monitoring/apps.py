from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            register_dashboard_tile,
            register_demo_seeder,
            register_nav_item,
            register_periodic_job,
        )

        from . import hooks, kpi_catalogue, reports, selectors
        from .demo import seed_demo

        kpi_catalogue.register_all()
        hooks.connect()
        register_nav_item(NavItem("monitoring", _("Quality monitor"), "monitoring:dashboard", "portal.view", order=600))
        register_dashboard_tile(selectors.dashboard_tiles)
        register_demo_seeder(DemoSeeder("monitoring", seed_demo, order=900))
        for name, task, every, text in [
            ("monitoring.rollup", "monitoring.tasks.kpi_rollup", 900, "KPI daily roll-ups: the last 3 days."),
            ("monitoring.alarms", "monitoring.tasks.alarm_rules_evaluate", 300, "Evaluate the alarm rules."),
            (
                "monitoring.objectives",
                "monitoring.tasks.objective_reminders",
                3600,
                "Remind owners of off-track objectives; escalate to the quality manager.",
            ),
        ]:
            register_periodic_job(PeriodicJob(name=name, task=task, every_seconds=every, description=text))
        reports.register()
        from . import tasks  # noqa: F401  (registers the Celery tasks)
