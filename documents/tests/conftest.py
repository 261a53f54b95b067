import pytest

from qms.core.models import Role


@pytest.fixture
def people(make_user):
    return {
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Qm"),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Qe"),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER], display_name="Qe2"),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Sup"),
        "insp": make_user("insp", roles=[Role.INSPECTOR], display_name="Insp"),
        "insp2": make_user("insp2", roles=[Role.INSPECTOR], display_name="Insp2"),
        "auditor": make_user("aud", roles=[Role.AUDITOR], display_name="Aud"),
    }
