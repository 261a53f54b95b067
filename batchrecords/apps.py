from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchrecordsConfig(AppConfig):
    name = "batchrecords"
    verbose_name = _("Batch records and deviations")
