from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = _("Suppliers")

    def ready(self):
        from django.urls import reverse

        from qms.core import policy
        from qms.core.registries import (
            DemoSeeder,
            NavItem,
            PeriodicJob,
            ScanResolver,
            register_dashboard_tile,
            register_demo_seeder,
            register_import_kind,
            register_nav_item,
            register_periodic_job,
            register_scan_resolver,
        )

        from . import importers, reports
        from .demo import seed_suppliers

        register_nav_item(NavItem("suppliers", _("Suppliers"), "suppliers:list", "suppliers.view", order=30))
        register_nav_item(
            NavItem("scorecards", _("Scorecards"), "suppliers:scorecards", "suppliers.scorecard", order=31)
        )

        def resolve(user, code):
            from .models import Supplier

            supplier = Supplier.objects.filter(code__iexact=code.strip()).prefetch_related("sites").first()
            if supplier and any(policy.can(user, "suppliers.view", s) for s in supplier.sites.all()):
                return reverse("suppliers:detail", args=[supplier.pk])
            return None

        register_scan_resolver(ScanResolver("supplier", resolve, order=40))
        register_demo_seeder(DemoSeeder("suppliers", seed_suppliers, order=30))
        for kind in (importers.SupplierImport(), importers.CertificateImport()):
            register_import_kind(kind)
        for name, task, every, desc in [
            ("suppliers.certificate_reminders", "suppliers.tasks.certificate_reminders", 3600,
             "Supplier certificates: reminders before expiry (90/30/7 days) and on expiry."),
            ("suppliers.certificate_expiry", "suppliers.tasks.certificate_expiry", 3600,
             "Supplier certificates: suspend approvals on expiry of a mandatory certificate; lift on renewal."),
            ("suppliers.scorecards", "suppliers.tasks.scorecards", 6 * 3600,
             "Supplier scorecards of this month and last month."),
        ]:  # fmt: skip
            register_periodic_job(PeriodicJob(name=name, task=task, every_seconds=every, description=desc))
        reports.register()

        register_dashboard_tile(expiring_certificates_tile)


def expiring_certificates_tile(user):
    from django.urls import reverse

    from qms.core import policy

    if not policy.can(user, "suppliers.view"):
        return None
    from .selectors import expiring_certificate_count

    count = expiring_certificate_count(user, 30)
    return {
        "label": _("Supplier certificates expiring in 30 days"),
        "value": count,
        "url": reverse("suppliers:certificates") + "?days=30",
        "level": "warning" if count else "info",
    }
