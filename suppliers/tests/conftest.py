import pytest

from qms.core.models import Role


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sqe(make_user):
    return make_user("sqe1", roles=[Role.SUPPLIER_QUALITY_ENGINEER])


@pytest.fixture
def qm(make_user):
    return make_user("qm1", roles=[Role.QUALITY_MANAGER])


@pytest.fixture
def qe(make_user):
    return make_user("qe1", roles=[Role.QUALITY_ENGINEER])


@pytest.fixture
def inspector(make_user):
    return make_user("insp1", roles=[Role.INSPECTOR])
