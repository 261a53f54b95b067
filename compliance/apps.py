from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_migrate

        from qms.core.audit import regulated_bulk_created, regulated_saved
        from qms.core.registries import (
            NavItem,
            PeriodicJob,
            register_nav_item,
            register_periodic_job,
            register_signature_authenticator,
        )

        from . import audit_trail, checks, db_roles  # noqa: F401  (checks registers the deploy check)
        from .signatures import signature_authenticate

        register_signature_authenticator(signature_authenticate)

        regulated_saved.connect(audit_trail.on_regulated_saved, dispatch_uid="compliance.audit")
        regulated_bulk_created.connect(audit_trail.on_regulated_bulk_created, dispatch_uid="compliance.audit_bulk")
        m2m_changed.connect(audit_trail.on_m2m_changed, dispatch_uid="compliance.audit_m2m")
        post_migrate.connect(db_roles.on_post_migrate, dispatch_uid="compliance.app_role_grants")
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import (
            access,
            reports_builtin,  # noqa: F401  (registers the audit-trail reports)
        )

        user_logged_in.connect(access.on_user_logged_in, dispatch_uid="compliance.access.in")
        user_logged_out.connect(access.on_user_logged_out, dispatch_uid="compliance.access.out")
        user_login_failed.connect(access.on_user_login_failed, dispatch_uid="compliance.access.failed")
        from qms.core.signals import file_downloaded

        file_downloaded.connect(access.on_file_downloaded, dispatch_uid="compliance.access.download")

        register_nav_item(
            NavItem("compliance.audit_trail", _("Audit trail"), "compliance:audit_trail", "audit.view", 900)
        )
        register_nav_item(NavItem("compliance.reports", _("Reports"), "compliance:reports", "reports.export", 910))
        register_periodic_job(
            PeriodicJob(
                name="compliance.audit_chain_verify",
                task="compliance.tasks.audit_chain_verify",
                every_seconds=24 * 3600,
                description="Recompute the audit trail hash chain; alert quality managers if broken.",
            )
        )
        register_periodic_job(
            PeriodicJob(
                name="compliance.audit_checkpoint",
                task="compliance.tasks.audit_checkpoint",
                every_seconds=3600,
                description="Anchor the audit trail head: a signed checkpoint in the database and the anchor log.",
            )
        )
