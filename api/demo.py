"""Demo integrations: an MES and an ERP service account at the bearing plant (no token: an administrator
issues one on the integrations page, where it is shown once)."""

from qms.core.models import Role, Site, User


def seed_demo() -> None:
    from .models import ServiceAccount
    from .services import service_account_create

    admin = User.objects.filter(username="admin").first()
    brg = Site.objects.filter(code="BRG").first()
    if admin is None or brg is None:
        return
    for name, system, roles, text in [
        (
            "mes-brg",
            "mes",
            [Role.INSPECTOR, Role.PRODUCTION_SUPERVISOR],
            "Bearing plant MES: measurements, production.",
        ),
        ("erp", "erp", [Role.INSPECTOR], "ERP: goods receipts."),
        ("wms-brg", "wms", [Role.PRODUCTION_SUPERVISOR], "Warehouse: ship checks and shipments."),
    ]:
        if ServiceAccount.objects.filter(user__username=name).exists():
            continue
        service_account_create(username=name, system=system, roles={brg: roles}, description=text, user=admin)
