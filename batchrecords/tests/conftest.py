import pytest

from qms.core.audit import audit_context
from qms.core.models import Industry, Role, Site


@pytest.fixture
def gmp_site(db):
    with audit_context(reason="test"):
        return Site.objects.create(code="PH1", name="Pharma plant", industry=Industry.PHARMA, requires_qa_release=True)


@pytest.fixture
def cast(make_user, gmp_site):
    """People of the pharma plant: two operators, QA (two), a read-only auditor."""
    s = [gmp_site]
    return {
        "op": make_user("op", roles=[Role.PRODUCTION_SUPERVISOR], sites=s),
        "op2": make_user("op2", roles=[Role.INSPECTOR], sites=s),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], sites=s),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], sites=s),
        "auditor": make_user("aud", roles=[Role.AUDITOR], sites=s),
    }
