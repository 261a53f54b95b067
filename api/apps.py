from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Integration API")

    def ready(self):
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            register_demo_seeder,
            register_nav_item,
            register_periodic_job,
        )

        from . import schema, webhooks  # noqa: F401  (schema: OpenAPI extensions)
        from .demo import seed_demo

        webhooks.connect()
        register_nav_item(NavItem("api", _("Integrations"), "api:accounts", "api.manage", order=950))
        register_demo_seeder(DemoSeeder("api", seed_demo, order=990))
        register_periodic_job(
            PeriodicJob(
                name="api.webhooks_retry",
                task="api.tasks.webhook_retry_due",
                every_seconds=60,
                description="Send webhook deliveries again whose back-off has passed.",
            )
        )
        from . import tasks  # noqa: F401  (registers the Celery tasks)
