"""Dashboard tiles registered by inspection: due / overdue inspections, lots awaiting release."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection import selectors, services
from inspection.models import Inspection, Stage, Station
from qms.core.audit import audit_context
from qms.core.models import Role
from qms.core.registries import registry

from . import factories as f

pytestmark = pytest.mark.django_db


def _tiles(client, user):
    client.force_login(user)
    resp = client.get(reverse("portal:dashboard"))
    assert resp.status_code == 200
    return {str(t["label"]): t for t in resp.context["tiles"]}


@pytest.fixture
def work(site, other_site, people, make_user):
    """At `site`: one overdue IQC, one IQC due later, one FQC lot passed and awaiting release.
    At `other_site`: one overdue IQC nobody at `site` may see."""
    now = timezone.now()
    p = f.part("RG-D")
    f.plan(site, p, people["qe"], people["qm"], scheme="fixed", fixed_sample_size=1, aql="")
    qe2 = make_user("qe2", roles=[Role.QUALITY_ENGINEER], sites=[other_site])
    qm2 = make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    f.plan(other_site, p, qe2, qm2, scheme="fixed", fixed_sample_size=1, aql="")
    sup = f.supplier()
    overdue = services.iqc_create_for_lot(lot=f.lot(site, p, 10, sup=sup))
    with audit_context(reason="test"):
        overdue.due_at = now - datetime.timedelta(hours=3)
        overdue.save()
    later = services.iqc_create_for_lot(lot=f.lot(site, p, 10, sup=sup))
    with audit_context(reason="test"):
        later.due_at = now + datetime.timedelta(hours=3)
        later.save()
    elsewhere = services.iqc_create_for_lot(lot=f.lot(other_site, p, 10, sup=sup))
    with audit_context(reason="test"):  # a new IQC is not overdue at once (issue 10): make this one late
        elsewhere.due_at = now - datetime.timedelta(hours=1)
        elsewhere.save()
    fg = f.part("FG-D")
    fqc = f.plan(site, fg, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=1, aql="")
    ready = f.lot(site, fg, 5, code="FG-READY")
    insp = services.inspection_create(stage=Stage.FQC, plan=fqc, lot=ready, user=people["inspector"])
    f.fill(insp, people["inspector"])
    services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    failed = f.lot(site, fg, 5, code="FG-FAILED")
    bad = services.inspection_create(stage=Stage.FQC, plan=fqc, lot=failed, user=people["inspector"])
    f.fill(bad, people["inspector"], bad=(1,))
    services.inspection_complete(inspection=bad, user=people["inspector"], credential=f.cred(people["inspector"]))
    f.lot(site, fg, 5, code="FG-NOT-INSPECTED")
    return {"overdue": overdue, "later": later, "elsewhere": elsewhere, "ready": ready}


def test_tile_provider_is_registered():
    assert selectors.dashboard_tiles in registry.dashboard_tiles


def test_inspector_sees_due_and_overdue_at_their_sites(client, people, work):
    tiles = _tiles(client, people["inspector"])
    assert tiles["Inspections due"]["value"] == 1
    assert tiles["Inspections overdue"]["value"] == 1  # the other site's overdue IQC is not counted
    assert tiles["Inspections overdue"]["url"] == reverse("inspection:worklist")
    assert "Lots awaiting release" not in tiles
    page = client.get(tiles["Inspections due"]["url"])
    assert page.status_code == 200 and work["overdue"].code in page.text and work["elsewhere"].code not in page.text


def test_inspector_counts_follow_their_stations(client, site, people, make_user, work):
    """An inspector covering a station sees what their worklist shows, not every inspection of the site."""
    other = make_user("insp-b", roles=[Role.INSPECTOR])
    with audit_context(reason="test"):
        st = Station.objects.create(site=site, code="ST-B", name="Bay B", stages="IQC")
        st.inspectors.set([other])
        insp = Inspection.objects.get(pk=work["overdue"].pk)
        insp.station = st
        insp.save()
    mine = _tiles(client, other)
    assert (mine["Inspections due"]["value"], mine["Inspections overdue"]["value"]) == (
        len([i for i in selectors.worklist(other) if i.due_at >= timezone.now()]),
        len([i for i in selectors.worklist(other) if i.due_at < timezone.now()]),
    )


def test_releaser_sees_lots_awaiting_release(client, people, work):
    tiles = _tiles(client, people["qm"])
    assert tiles["Lots awaiting release"]["value"] == 1
    assert "Inspections due" not in tiles  # a quality manager does not perform inspections
    page = client.get(tiles["Lots awaiting release"]["url"])
    assert page.status_code == 200
    assert "FG-READY" in page.text and "FG-FAILED" not in page.text and "FG-NOT-INSPECTED" not in page.text
    assert reverse("inspection:release", args=["FG-READY"]) in page.text
    services.lot_release_sign(lot=work["ready"], user=people["qm"], credential=f.cred(people["qm"]))
    assert _tiles(client, people["qm"])["Lots awaiting release"]["value"] == 0


def test_auditor_sees_read_only_counts_of_the_sites_they_may_view(client, site, other_site, people, make_user, work):
    tiles = _tiles(client, people["auditor"])
    assert "Inspections due" not in tiles and "Lots awaiting release" not in tiles
    assert tiles["Inspections overdue"]["value"] == 1
    page = client.get(tiles["Inspections overdue"]["url"])
    assert page.status_code == 200
    assert work["overdue"].code in page.text and work["later"].code not in page.text
    assert work["elsewhere"].code not in page.text
    assert client.get(reverse("inspection:worklist")).status_code == 403
    assert client.get(reverse("inspection:release_queue")).status_code == 403
    far = make_user("aud-far", roles=[Role.AUDITOR], sites=[other_site])
    assert _tiles(client, far)["Inspections overdue"]["value"] == 1  # only the other site's
    nobody = make_user("no-site", roles=[], sites=[])
    client.force_login(nobody)
    from qms.core.models import User

    assert selectors.dashboard_tiles(User.objects.get(pk=nobody.pk)) == []


def test_tiles_cost_a_constant_number_of_queries(people, work, django_assert_max_num_queries):
    from qms.core.models import User

    for key, most in (("inspector", 3), ("qm", 3), ("auditor", 2)):
        user = User.objects.get(pk=people[key].pk)
        with django_assert_max_num_queries(most):
            selectors.dashboard_tiles(user)
