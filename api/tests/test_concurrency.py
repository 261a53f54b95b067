"""The same call sent twice at once (a retry racing the original) records its values once."""

import threading
import uuid

import pytest
from django.db import connection

from inspection.models import Measurement, Stage
from qms.core.models import Role

from .factories import api_client
from .test_measurements import _values


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_key_record_once(admin, site, make_user):
    from inspection import services as insp_services
    from inspection.tests import factories as f

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    p = f.part("RG-CONC")
    plan = f.plan(site, p, qe, qm, stage=Stage.FQC)
    insp = insp_services.inspection_create(
        stage=Stage.FQC, plan=plan, lot=f.lot(site, p, qty=200), user=qe, sample_size=10
    )
    client = api_client(admin, site, name="cmm", roles=[Role.INSPECTOR])
    body = {"values": _values(insp, n=10)}
    key = str(uuid.uuid4())
    statuses = []
    barrier = threading.Barrier(2)

    def call():
        try:
            barrier.wait()
            response = client.post_json("/api/v1/measurements/", body, HTTP_IDEMPOTENCY_KEY=key)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 201], statuses
    assert Measurement.objects.filter(inspection=insp).count() == 10
