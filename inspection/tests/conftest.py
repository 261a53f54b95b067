import pytest

from qms.core.models import Role


@pytest.fixture
def people(make_user, site):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "supervisor": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
    }
