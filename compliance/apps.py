from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        from qms.core.audit import regulated_bulk_created, regulated_saved
        from qms.core.registries import NavItem, register_nav_item

        from . import audit_trail

        regulated_saved.connect(audit_trail.on_regulated_saved, dispatch_uid="compliance.audit")
        regulated_bulk_created.connect(audit_trail.on_regulated_bulk_created, dispatch_uid="compliance.audit_bulk")
        from . import reports_builtin  # noqa: F401  (registers the audit-trail reports)

        register_nav_item(
            NavItem("compliance.audit_trail", _("Audit trail"), "compliance:audit_trail", "audit.view", 900)
        )
        register_nav_item(NavItem("compliance.reports", _("Reports"), "compliance:reports", "reports.export", 910))
