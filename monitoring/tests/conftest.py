import pytest

from qms.core.models import Role


@pytest.fixture
def people(make_user, site):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "supervisor": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
    }
