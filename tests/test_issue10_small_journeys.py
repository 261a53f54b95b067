"""Issue 10: a new IQC is not overdue the moment it exists; the "certificates expiring" tile counts what
its list shows; the containment-owner list offers only people who can act at the site."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection.models import Inspection, Stage
from inspection.tests import factories as insp_f
from qms.core.models import Role
from suppliers.tests import factories as sup_f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
    }


def test_a_new_iqc_is_due_by_policy_not_overdue_at_once(site, people, login, settings):
    from traceability.models import Lot
    from traceability.signals import lot_received

    settings.QMS_INSPECTION_DUE_HOURS = {"IQC": 24}
    part = insp_f.part("RG-NEW")
    insp_f.plan(site, part, people["qe"], people["qm"])
    lot = insp_f.lot(site, part, 100, sup=insp_f.supplier(), code="LOT-NEW")
    lot_received.send(sender=Lot, lot=lot)
    iqc = Inspection.objects.get(lot=lot, stage=Stage.IQC)
    assert not iqc.is_overdue()
    assert abs(iqc.due_at - (lot.created_at + datetime.timedelta(hours=24))) < datetime.timedelta(seconds=1)
    assert iqc.is_overdue(now=lot.created_at + datetime.timedelta(hours=25))
    response = login(people["inspector"]).get(reverse("inspection:detail", args=[iqc.code]))
    assert response.context["overdue"] is False


def test_certificates_expiring_tile_equals_its_list(site, people, login):
    from suppliers.apps import expiring_certificates_tile

    sup = sup_f.make_supplier(people["sqe"], site, code="SUP-EXP")
    sup_f.add_cert(sup, people["sqe"], "iso9001", days=10)  # valid, ends in 10 days
    sup_f.add_cert(sup, people["sqe"], "iatf16949", days=20, accept=False)  # awaiting review, ends in 20 days
    sup_f.add_cert(sup, people["sqe"], "iso14001", days=200)  # far away
    client = login(people["qm"])
    tile = expiring_certificates_tile(people["qm"])
    response = client.get(tile["url"])
    assert response.status_code == 200
    listed = response.context["page_obj"].paginator.count
    assert tile["value"] == listed == 2


def test_containment_owner_list_excludes_the_read_only_auditor(site, other_site, people, make_user):
    from nonconformance.forms import ContainmentForm
    from nonconformance.services import containment_action_add
    from nonconformance.tests import factories as ncr_f
    from qms.core.errors import DomainError

    elsewhere = make_user("far", roles=[Role.QUALITY_ENGINEER], sites=[other_site])
    owners = set(ContainmentForm(site=site).fields["owner"].queryset)
    assert people["auditor"] not in owners and elsewhere not in owners
    assert {people["qe"], people["inspector"], people["sqe"]} <= owners
    ncr = ncr_f.open_ncr(site, people["qe"])
    with pytest.raises(DomainError, match="cannot act"):  # a forged post is refused by the service too
        containment_action_add(ncr=ncr, kind="sort", owner=people["auditor"], user=people["qe"])
    due = timezone.localdate() + datetime.timedelta(days=1)
    action = containment_action_add(ncr=ncr, kind="sort", owner=people["inspector"], user=people["qe"], due_on=due)
    assert action.owner == people["inspector"]
