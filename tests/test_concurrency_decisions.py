"""Issue 9, item 8: the same decision from concurrent requests takes effect once; a create form posted again
(double click, retry, eight requests at once) creates nothing new. PostgreSQL, real threads."""

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qms.core.errors import DomainError
from qms.core.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

N = 8


def run_at_once(fn, args_list, site_ids=None):
    """Run fn(*args) in one thread each, released together; returns their outcomes. A new thread starts
    outside any site scope: it acts as a request would, inside `site_ids`."""
    from qms.core.scoping import site_scope

    barrier = threading.Barrier(len(args_list))
    outcomes = []

    def worker(args):
        try:
            barrier.wait()
            if site_ids is None:
                outcomes.append(("ok", fn(*args)))
            else:
                with site_scope(site_ids):
                    outcomes.append(("ok", fn(*args)))
        except DomainError as exc:
            outcomes.append(("refused", exc.message))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_one_disposition_line_executed_by_eight_requests_takes_effect_once(site, make_user):
    """Issue 9: executing one MRB disposition line from 8 concurrent requests executed it 2-3 times."""
    from nonconformance import services
    from nonconformance.models import Disposition, DispositionLine
    from nonconformance.tests import factories as f
    from traceability.models import Lot

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    eng = make_user("eng", roles=[Role.MRB_MEMBER])
    sales = make_user("sales", roles=[Role.MRB_MEMBER])
    lot = f.lot(site, f.part(), quantity=1000, code="L-RACE")
    ncr = f.open_ncr(site, qe, lots=[(lot, 200)], qty_confirmed=200, the_part=lot.part)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    services.disposition_line_add(
        ncr=ncr, kind="concession", quantity=200, lot=lot, user=qe,
        concession_quantity_limit=200, customer_approval_reference="OK-R",
    )  # fmt: skip
    services.disposition_submit(ncr=ncr, user=qe)
    disposition = Disposition.objects.get(ncr=ncr)
    for user, role in ((qm, "quality"), (eng, "engineering"), (sales, "sales")):
        services.mrb_decide(
            disposition=disposition, mrb_role=role, vote="approve", user=user, credential=f.credential(user)
        )
    line = disposition.lines.get()

    outcomes = run_at_once(
        lambda: services.disposition_line_execute(line=line, user=qe, note="race"), [()] * N, site_ids=[site.pk]
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["refused"] * (N - 1)
    assert all("carried out already" in msg for kind, msg in outcomes if kind == "refused")
    assert Lot.objects.filter(code__startswith="L-RACE-S").count() == 1  # split once
    lot.refresh_from_db()
    assert lot.quantity == 800
    assert DispositionLine.objects.get(pk=line.pk).executed_quantity == 200


def test_eight_releases_of_the_same_lot_end_with_one(site, make_user):
    from inspection import services
    from inspection.models import LotRelease, Stage
    from inspection.tests import factories as f

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    managers = [make_user(f"qm{i}", roles=[Role.QUALITY_MANAGER]) for i in range(N)]
    p = f.part("FG-R8")
    plan = f.plan(site, p, qe, managers[0], stage=Stage.FQC, scheme="fixed", fixed_sample_size=1, aql="")
    lot = f.lot(site, p, 10)
    insp = services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=inspector)
    f.fill(insp, inspector)
    services.inspection_complete(inspection=insp, user=inspector, credential=f.cred(inspector))

    outcomes = run_at_once(
        lambda u: services.lot_release_sign(lot=lot, user=u, credential=f.cred(u), reason="race"),
        [(m,) for m in managers],
        [site.pk],
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["refused"] * (N - 1)
    assert LotRelease.objects.filter(lot=lot).count() == 1
    lot.refresh_from_db()
    assert lot.status == "released"


def test_complaint_to_ncr_form_posted_eight_times_creates_one_ncr(site, make_user):
    """Issue 9: re-posting the complaint → NCR form created 5 NCRs."""
    from nonconformance import services
    from nonconformance.models import Ncr
    from nonconformance.tests import factories as f

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    lot = f.lot(site, f.part(), quantity=50, status="released")
    complaint = services.complaint_create(
        site=site, customer=f.customer(), part=lot.part, title="Noise", description="bearing noise",
        response_due_on=timezone.localdate(), user=qe, lot=lot,
    )  # fmt: skip
    url = reverse("nonconformance:complaint_open_ncr", args=[complaint.code])
    token = uuid.uuid4().hex

    def post():
        client = Client()
        client.force_login(qe)
        return client.post(url, {"form_token": token})["Location"]

    outcomes = run_at_once(post, [()] * N)
    assert [kind for kind, _ in outcomes] == ["ok"] * N
    assert Ncr.objects.filter(complaint=complaint).count() == 1
    ncr = Ncr.objects.get(complaint=complaint)
    assert {location for _, location in outcomes} == {services.ncr_url(ncr)}  # every request sees the first
    # a new form (new token) is a new request
    client = Client()
    client.force_login(qe)
    client.post(url, {"form_token": uuid.uuid4().hex})
    assert Ncr.objects.filter(complaint=complaint).count() == 2


def test_a_refused_create_leaves_its_token_usable(site, make_user):
    from nonconformance.models import Ncr

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    client = Client()
    client.force_login(qe)
    token = uuid.uuid4().hex
    url = reverse("nonconformance:ncr_create")
    response = client.post(url, {"form_token": token})  # invalid form: errors shown, nothing created
    assert response.status_code == 200 and not Ncr.objects.exists()
    from qms.core.models import SubmittedForm

    assert not SubmittedForm.objects.filter(token=token).exists()
    # somebody else's token leads nowhere
    other = make_user("qe-other", roles=[Role.QUALITY_ENGINEER])
    with_token = Client()
    with_token.force_login(other)
    assert with_token.post(url, {"form_token": "not-a-uuid"}).status_code == 302
