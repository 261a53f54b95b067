from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "qms.core"
    label = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from . import importers, jobs_registration  # noqa: F401  (registers import kinds and jobs)
