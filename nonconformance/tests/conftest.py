import pytest

from qms.core.models import Role


@pytest.fixture
def people(make_user):
    """The MRB cast at one site."""
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
        "eng": make_user("eng", roles=[Role.MRB_MEMBER]),
        "sales": make_user("sales", roles=[Role.MRB_MEMBER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
    }
