from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchrecordsConfig(AppConfig):
    name = "batchrecords"
    verbose_name = _("Batch records and deviations")

    def ready(self):
        from qms.core.registries import DemoSeeder, NavItem, register_demo_seeder, register_nav_item

        from . import integrations, reports, services  # noqa: F401  (services: the doors)
        from .demo import seed_demo

        register_nav_item(NavItem("batchrecords", _("Batch records"), "batchrecords:index", "batch.view", order=450))
        register_nav_item(
            NavItem("deviations", _("Deviations"), "batchrecords:deviation_list", "deviation.view", order=455)
        )
        register_demo_seeder(DemoSeeder("batchrecords", seed_demo, order=550))
        reports.register()
        integrations.connect()
