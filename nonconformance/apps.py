from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NonconformanceConfig(AppConfig):
    name = "nonconformance"
    verbose_name = _("Nonconformance")
