"""The site scope itself (qms/core/scoping.py), and each defect of issue 9 reproduced: a FOOD-only quality
manager read and wrote BRG data through reports, the record trail, drop-downs and the browser import.

`site` plays BRG (automotive) and `other_site` plays FOOD; `food_qm` is a quality manager of FOOD only.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.pdf import render_report_pdf
from compliance.reports import ReportError
from nonconformance.tests import factories as ncr_f
from qms.core.middleware import SiteScopeMiddleware
from qms.core.models import Equipment, Role
from qms.core.scoping import ScopeError, scope, site_scope, system_scope
from suppliers.models import Supplier
from traceability.models import Lot, LotHold, LotLink
from traceability.tests import factories as f


@pytest.fixture
def food_qm(make_user, other_site):
    return make_user("food_qm", roles=[Role.QUALITY_MANAGER], sites=[other_site])


@pytest.fixture
def brg_qm(make_user, site):
    return make_user("brg_qm", roles=[Role.QUALITY_MANAGER], sites=[site])


def _serving(code, *sites):
    supplier = f.supplier(code)
    supplier.sites.set(sites)
    return supplier


# --------------------------------------------------------------------------------- the mechanism


@pytest.mark.django_db
def test_a_query_outside_any_scope_raises(site):
    lot = f.lot(site)
    with scope():  # a scope without a site: what a thread or a job that forgot its scope runs in
        for attempt in (
            lambda: Lot.objects.count(),
            lambda: list(Lot.objects.all()),
            lambda: Lot.objects.filter(code=lot.code).first(),
            lambda: Lot.objects.exists(),
            lambda: Lot.objects.get(pk=lot.pk),
            lambda: list(LotHold.objects.all()),
            lambda: list(lot.holds.all()),  # reverse relations use the scoped manager too
            lambda: Supplier.objects.count(),
            lambda: Equipment.objects.exists(),
            lambda: Lot.objects.bulk_create([]),
        ):
            with pytest.raises(ScopeError):
                attempt()
        # Following a foreign key from a record already loaded is not a query over sites.
        assert lot.site.code == site.code


@pytest.mark.django_db
def test_a_scope_sees_its_sites_only_and_an_empty_scope_sees_nothing(site, other_site):
    here, there = f.lot(site), f.lot(other_site)
    f.link(here, f.lot(site))
    f.link(there, f.lot(other_site))
    with site_scope([site.pk]):
        assert set(Lot.objects.values_list("site_id", flat=True)) == {site.pk}
        assert not Lot.objects.filter(pk=there.pk).exists()
        assert {link.parent_id for link in LotLink.objects.all()} == {here.pk}
    with site_scope([]):
        assert Lot.objects.count() == 0 and LotLink.objects.count() == 0
    with system_scope():
        assert Lot.objects.count() == 4


@pytest.mark.django_db
def test_a_shared_supplier_is_seen_once_and_only_by_the_sites_it_serves(site, other_site):
    both = _serving("SUP-BOTH", site, other_site)
    brg_only = _serving("SUP-BRG", site)
    with site_scope([site.pk, other_site.pk]):
        assert list(Supplier.objects.order_by("code").values_list("code", flat=True)) == ["SUP-BOTH", "SUP-BRG"]
    with site_scope([other_site.pk]):
        assert list(Supplier.objects.all()) == [both]
        assert not Supplier.objects.filter(pk=brg_only.pk).exists()


@pytest.mark.django_db
def test_locking_a_child_record_does_not_join_and_lock_its_parent(site):
    lot = f.lot(site)
    with site_scope([site.pk]), CaptureQueriesContext(connection) as ctx:
        list(LotHold.objects.select_for_update().filter(lot=lot))
    sql = ctx.captured_queries[-1]["sql"]
    assert "JOIN" not in sql.upper() and "IN (SELECT" in sql.upper(), sql


@pytest.mark.django_db
def test_the_middleware_scopes_anonymous_requests_to_no_site_and_turns_scope_errors_into_404(site):
    from django.contrib.auth.models import AnonymousUser

    f.lot(site)
    seen = {}

    def view(request):
        seen["count"] = Lot.objects.count()
        return None

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    SiteScopeMiddleware(view)(request)
    assert seen["count"] == 0
    with pytest.raises(Http404):
        SiteScopeMiddleware(view).process_exception(request, ScopeError("escaped"))


@pytest.mark.django_db
def test_public_trace_page_opens_other_sites_lots_by_token_only(client, site, food_qm):
    from traceability.services import lot_public_enable

    lot = f.lot(site)
    with site_scope([site.pk]):
        lot = lot_public_enable(lot=lot, user=None) or Lot.objects.get(pk=lot.pk)
    lot.refresh_from_db()
    assert client.get(reverse("traceability:public", args=[lot.public_token])).status_code == 200
    client.force_login(food_qm)
    assert client.get(reverse("traceability:lot", args=[lot.code])).status_code == 404


# ------------------------------------------------------------------------ the defects of issue 9


@pytest.mark.django_db
def test_defect_trace_and_coa_pdfs_of_another_site_are_refused(client, site, food_qm, brg_qm):
    lot = f.lot(site)
    client.force_login(brg_qm)
    own = client.get(reverse("compliance:report_pdf", args=["inspection.coa"]), {"lot": lot.code})
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    # the trace can grow with the data: it runs as a background export (its page, not the PDF at once)
    own_trace = client.get(reverse("compliance:report_pdf", args=["traceability.trace"]), {"lot": lot.code})
    assert own_trace.status_code in (200, 302)
    client.force_login(food_qm)
    coa = client.get(reverse("compliance:report_pdf", args=["inspection.coa"]), {"lot": lot.code})
    assert coa.status_code == 400 and coa["Content-Type"] != "application/pdf"
    # The trace is a background export: the job runs in the requester's sites, finds no such lot, makes no file.
    from compliance.models import ExportJob

    client.post(reverse("compliance:report_pdf", args=["traceability.trace"]), {"lot": lot.code, "format": "pdf"})
    job = ExportJob.objects.filter(requested_by=food_qm).first()
    if job is not None:
        job.refresh_from_db()
        assert job.status != "ready" and not job.file and not job.sha256


@pytest.mark.django_db
def test_defect_a_report_rendered_for_a_user_in_a_job_keeps_to_the_users_sites(site, food_qm):
    lot = f.lot(site)
    with system_scope(), pytest.raises(ReportError):  # a background job runs in the system scope
        render_report_pdf(key="traceability.trace", params={"lot": lot.code}, user=food_qm, store=False)


@pytest.mark.django_db
def test_defect_audit_record_page_and_pdf_of_another_sites_ncr_are_refused(client, site, food_qm, brg_qm):
    ncr = ncr_f.open_ncr(site, brg_qm)
    trail = reverse("compliance:record_trail", args=["nonconformance.ncr", ncr.pk])
    client.force_login(brg_qm)
    assert client.get(trail).status_code == 200
    client.force_login(food_qm)
    assert client.get(trail).status_code == 404
    response = client.get(
        reverse("compliance:report_pdf", args=["audit.record"]), {"model": "nonconformance.ncr", "id": ncr.pk}
    )
    assert response.status_code == 400 and response["Content-Type"] != "application/pdf"
    assert ncr.title not in response.content.decode()


@pytest.mark.django_db
def test_defect_supplier_drop_downs_on_receive_and_scar_pages(client, site, other_site, food_qm):
    _serving("SUP-BRG", site)
    food = _serving("SUP-FOOD", other_site)
    client.force_login(food_qm)
    for name in ("traceability:receive", "capa:scar_create"):
        page = client.get(reverse(name)).content.decode()
        assert "SUP-FOOD" in page and "SUP-BRG" not in page, name
    brg = Supplier.objects.get(code="SUP-BRG")
    part = f.part()
    data = {"site": other_site.pk, "part": part.pk, "supplier_lot_code": "X1", "quantity": "5", "code": "L-SNEAK"}
    response = client.post(reverse("traceability:receive"), {**data, "supplier": brg.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Lot.objects.filter(code="L-SNEAK").exists()
    assert food.pk  # the own site's supplier stays selectable


def _import(client, kind, text):
    upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("core:import"), {"kind": kind, "file": upload})


@pytest.mark.django_db
def test_defect_browser_import_of_a_released_lot_at_another_site_is_a_row_error(client, site, other_site, food_qm):
    part = f.part("P-IMP")
    client.force_login(food_qm)
    response = _import(
        client, "lots", f"code,part_number,quantity,site,status\nL-BRG-X,P-IMP,10,{site.code},released\n"
    )
    body = response.content.decode()
    assert "Nothing was imported" in body and "not one of the sites you may import into" in body
    assert not Lot.objects.filter(code="L-BRG-X").exists()
    # The same row for the user's own site is imported.
    response = _import(client, "lots", f"code,part_number,quantity,site\nL-FOOD-X,{part.number},10,{other_site.code}\n")
    assert Lot.objects.get(code="L-FOOD-X").site == other_site


@pytest.mark.django_db
def test_defect_browser_import_of_a_genealogy_link_between_other_sites_lots_is_a_row_error(client, site, food_qm):
    parent, child = f.lot(site, "L-BRG-P"), f.lot(site, "L-BRG-C")
    client.force_login(food_qm)
    response = _import(client, "genealogy", "parent_lot,child_lot,quantity\nL-BRG-P,L-BRG-C,1\n")
    body = response.content.decode()
    assert "Nothing was imported" in body and "do not exist" in body
    assert not LotLink.objects.filter(parent=parent, child=child).exists()


@pytest.mark.django_db
def test_import_of_a_code_taken_at_another_site_is_a_row_error_not_a_crash(client, site, other_site, food_qm):
    f.lot(site, "L-TAKEN")
    f.part("P-T")
    client.force_login(food_qm)
    response = _import(client, "lots", f"code,part_number,quantity,site\nL-TAKEN,P-T,1,{other_site.code}\n")
    assert response.status_code == 200 and "already exists" in response.content.decode()
    both = _serving("SUP-SHARED", site, other_site)
    _serving("SUP-HIDDEN", site)
    rows = f"code,name,category,sites\nSUP-SHARED,Renamed,{both.category},{other_site.code}\nSUP-HIDDEN,X,{both.category},{other_site.code}\n"
    body = _import(client, "suppliers", rows).content.decode()
    assert "serves none of your sites" in body
    rows = f"code,name,category,sites\nSUP-SHARED,Renamed,{both.category},{other_site.code}\n"
    _import(client, "suppliers", rows)
    # The supplier keeps serving the site the importing user cannot see.
    assert set(Supplier.objects.get(code="SUP-SHARED").sites.values_list("pk", flat=True)) == {site.pk, other_site.pk}


@pytest.mark.django_db
def test_editing_a_shared_supplier_keeps_the_sites_the_user_cannot_see(client, site, other_site, make_user):
    food_sqe = make_user("food_sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER], sites=[other_site])
    shared = _serving("SUP-SHARED", site, other_site)
    client.force_login(food_sqe)
    page = client.get(reverse("suppliers:edit", args=[shared.pk])).content.decode()
    assert f'value="{site.pk}"' not in page  # the other site is not even offered
    from suppliers.services import supplier_update

    with site_scope([other_site.pk]):
        supplier_update(supplier=shared, user=food_sqe, reason="contact changed", sites=[other_site], name="Renamed")
    shared.refresh_from_db()
    assert shared.name == "Renamed"
    assert set(shared.sites.values_list("pk", flat=True)) == {site.pk, other_site.pk}
