import pytest

from qms.core.models import Role
from qms.core.verdict import Verdict


@pytest.fixture
def qm(make_user):
    return make_user("qm1", roles=[Role.QUALITY_MANAGER])


@pytest.fixture
def supply_ok(monkeypatch):
    """Suppliers answers yes (its own approval workflow is tested in suppliers)."""
    import suppliers.services

    monkeypatch.setattr(suppliers.services, "supplier_can_supply", lambda **kw: Verdict(True, []))
