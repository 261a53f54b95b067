import pytest

from qms.core.models import Role


@pytest.fixture
def admin(make_user, site, other_site):
    return make_user("admin", roles=[Role.ADMINISTRATOR], sites=[site, other_site])
