"""The SPC signals of inspection counted by the monitoring KPI "spc.signals" (moved here from
inspection/tests: inspection must not import monitoring, the layer above it)."""

from inspection.spc_services import control_limits_freeze, spc_evaluate_inspection
from inspection.tests import factories as f
from inspection.tests import test_spc_charts as spc_tests

_baseline, _subgroup = spc_tests._baseline, spc_tests._subgroup
ipqc_plan = spc_tests.ipqc_plan  # the fixture


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
