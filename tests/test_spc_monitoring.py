"""SPC meets monitoring: signals of frozen control limits are facts the KPI roll-ups count."""

import pytest

from inspection.models import Stage
from inspection.spc_services import control_limits_freeze, spc_evaluate_inspection
from inspection.tests import factories as f
from inspection.tests.test_spc_charts import _baseline, _subgroup
from qms.core.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        name: make_user(name, roles=[role])
        for name, role in (("qe", Role.QUALITY_ENGINEER), ("qm", Role.QUALITY_MANAGER), ("inspector", Role.INSPECTOR))
    }


@pytest.fixture
def ipqc_plan(site, people):
    chars = [{"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 4}]
    return f.plan(
        site, f.part("SPC-M"), people["qe"], people["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=5,
        aql="", chars=chars,
    )  # fmt: skip


def test_signals_are_recorded_once_and_counted_by_monitoring(ipqc_plan, people, site):
    import datetime

    from django.utils import timezone

    from inspection.models import SpcSignal
    from monitoring import engine
    from qms.core.kpis import KPIS

    _baseline(ipqc_plan, people["inspector"])
    char = ipqc_plan.characteristics.get()
    control_limits_freeze(characteristic=char, user=people["qe"], credential=f.cred(people["qe"]), reason="baseline")
    drift = _subgroup(ipqc_plan, people["inspector"], [10.011, 10.012, 10.01, 10.013, 10.011])
    spc_evaluate_inspection(inspection_id=drift.pk)
    spc_evaluate_inspection(inspection_id=drift.pk)
    signals = SpcSignal.objects.filter(inspection=drift)
    assert signals.count() >= 1 and set(signals.values_list("rule", flat=True)) >= {1}
    kpi = KPIS["spc.signals"]
    today = timezone.localdate()
    engine.rollup(kpi=kpi, site=site, day_from=today - datetime.timedelta(days=1), day_to=today)
    point = engine.total(kpi, site_ids=[site.pk], start=today - datetime.timedelta(days=1), end=today)
    assert point.value == signals.count()
