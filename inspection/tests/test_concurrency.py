"""Two people releasing the same lot at once end with one release."""

import threading

import pytest
from django.db import connection

from inspection import services
from inspection.models import LotRelease, Stage
from qms.core.errors import DomainError
from qms.core.models import Role
from qms.core.scoping import site_scope

from . import factories as f


@pytest.mark.django_db(transaction=True)
def test_concurrent_release_ends_with_one(site, make_user):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    qm1 = make_user("qm1", roles=[Role.QUALITY_MANAGER])
    qm2 = make_user("qm2", roles=[Role.QUALITY_MANAGER])
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    p = f.part("FG-C")
    pl = f.plan(site, p, qe, qm1, stage=Stage.FQC, scheme="fixed", fixed_sample_size=1, aql="")
    lot = f.lot(site, p, 10)
    insp = services.inspection_create(stage=Stage.FQC, plan=pl, lot=lot, user=inspector)
    f.fill(insp, inspector)
    services.inspection_complete(inspection=insp, user=inspector, credential=f.cred(inspector))

    barrier = threading.Barrier(2)
    outcomes = []

    def release(user):
        try:
            barrier.wait()
            # A new thread starts outside any scope: act as a request would, inside the user's site.
            with site_scope([site.pk]):
                services.lot_release_sign(lot=lot, user=user, credential=f.cred(user), reason="concurrent")
            outcomes.append("released")
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=release, args=(u,)) for u in (qm1, qm2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o == "released" for o in outcomes) == [False, True]
    assert any("already released" in o for o in outcomes)
    assert LotRelease.objects.filter(lot=lot).count() == 1
    lot.refresh_from_db()
    assert lot.status == "released"
