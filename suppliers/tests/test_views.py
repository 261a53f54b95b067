import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qms.core.models import Role
from suppliers import services
from suppliers.apps import expiring_certificates_tile
from suppliers.models import Certificate, Supplier, SupplierStatus
from suppliers.tests.factories import (
    PDF_BYTES,
    add_cert,
    approved_supplier,
    make_part,
    make_supplier,
    qualify,
    reviewer_for,
)

PASSWORD = "test-Password-123"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,list_status,scores_status",
    [
        (Role.SUPPLIER_QUALITY_ENGINEER, 200, 200),
        (Role.QUALITY_MANAGER, 200, 200),
        (Role.AUDITOR, 200, 200),
        (Role.INSPECTOR, 200, 403),
    ],
)
def test_access_per_role(make_user, login, site, sqe, role, list_status, scores_status):
    part = make_part()
    supplier = approved_supplier(sqe, site, part=part)
    client = login(make_user("u-" + role, roles=[role]))
    assert client.get(reverse("suppliers:list")).status_code == list_status
    assert client.get(reverse("suppliers:scorecards")).status_code == scores_status
    assert client.get(reverse("suppliers:detail", args=[supplier.pk])).status_code == 200
    may_decide = role in (Role.SUPPLIER_QUALITY_ENGINEER, Role.QUALITY_MANAGER)
    status = client.get(reverse("suppliers:decide", args=[supplier.pk, "suspend"])).status_code
    assert status == (200 if may_decide else 403)
    assert client.get(reverse("suppliers:create")).status_code == (200 if may_decide else 403)


@pytest.mark.django_db
def test_other_site_supplier_is_forbidden(make_user, login, site, other_site, sqe):
    supplier = make_supplier(sqe, site)
    outsider = make_user("outsider", roles=[Role.SUPPLIER_QUALITY_ENGINEER], sites=[other_site])
    client = login(outsider)
    # Another site's supplier is not found at all (the site scope), not merely forbidden.
    assert client.get(reverse("suppliers:detail", args=[supplier.pk])).status_code == 404
    assert supplier.code not in client.get(reverse("suppliers:list")).content.decode()


@pytest.mark.django_db
def test_list_sorted_by_grade_and_detail_without_n_plus_one(login, site, sqe):
    part = make_part()
    for code in ("SUP-1", "SUP-2", "SUP-3"):
        supplier = approved_supplier(sqe, site, code=code, part=part)
        for i in range(3):
            services.supplier_receipt_record(
                supplier=supplier, part=part, site=site, lot_code=f"{code}-{i}",
                accepted=not (code == "SUP-1" and i < 2), quantity_inspected=100, quantity_defective=0,
            )  # fmt: skip
    client = login(sqe)
    body = client.get(reverse("suppliers:list") + "?sort=grade").content.decode()
    assert body.index("SUP-2") < body.index("SUP-3") < body.index("SUP-1")  # A, A, then the D
    response = client.get(reverse("suppliers:detail", args=[supplier.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "scorecard-chart" in page and "suppliers/scorecard-chart.js" in page
    assert client.get(reverse("suppliers:scorecards") + "?sort=-grade").status_code == 200
    assert client.get(reverse("suppliers:certificates") + "?days=all").status_code == 200


@pytest.mark.django_db
def test_qualify_in_the_browser_end_to_end(login, site, sqe):
    client = login(sqe)
    response = client.post(
        reverse("suppliers:create"),
        {
            "code": "sup-new",
            "name": "New Steel",
            "category": "raw_material",
            "risk_level": "medium",
            "sites": [site.pk],
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(code="SUP-NEW")
    url = reverse("suppliers:decide", args=[supplier.pk, "start_evaluation"])
    response = client.post(url, {"username": "sqe1", "password": "wrong", "reason": "start"})
    assert response.status_code == 200 and "Wrong password" in response.content.decode()
    response = client.post(url, {"username": "sqe1", "password": PASSWORD, "reason": "start"})
    assert response.status_code == 302
    approve = reverse("suppliers:decide", args=[supplier.pk, "approve"])
    response = client.post(approve, {"password": PASSWORD, "reason": "qualified"})
    assert "missing" in response.content.decode()
    supplier.refresh_from_db()
    assert supplier.status == SupplierStatus.UNDER_EVALUATION
    response = client.post(
        reverse("suppliers:certificate_upload", args=[supplier.pk]),
        {"cert_type": "business_licence", "number": "BL-1", "file": SimpleUploadedFile("bl.pdf", PDF_BYTES)},
    )
    cert = Certificate.objects.get(number="BL-1")
    assert response.status_code == 302
    # segregation of duties: the uploader's own acceptance is refused; a second reviewer accepts
    client.post(reverse("suppliers:certificate_review", args=[cert.pk]), {"decision": "accept", "comment": ""})
    cert.refresh_from_db()
    assert cert.status == "pending_review"
    reviewer = reviewer_for(sqe)
    login(reviewer).post(reverse("suppliers:certificate_review", args=[cert.pk]), {"decision": "accept", "comment": ""})
    cert.refresh_from_db()
    assert cert.status == "valid" and cert.reviewed_by == reviewer
    client = login(sqe)
    bad = client.post(
        reverse("suppliers:certificate_upload", args=[supplier.pk]),
        {"cert_type": "iso9001", "number": "X", "file": SimpleUploadedFile("x.pdf", b"GIF89a not a pdf")},
    )
    assert bad.status_code == 200 and "Allowed: PDF, PNG, JPEG" in bad.content.decode()
    qualify(supplier, sqe)
    # the SQE created the supplier: its approval is refused, a second person approves
    response = client.post(approve, {"password": PASSWORD, "reason": "qualified"})
    supplier.refresh_from_db()
    assert supplier.status == SupplierStatus.UNDER_EVALUATION and response.status_code == 200
    client = login(reviewer)
    response = client.post(approve, {"username": reviewer.username, "password": PASSWORD, "reason": "qualified"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    supplier.refresh_from_db()
    assert supplier.status == SupplierStatus.APPROVED
    detail = client.get(reverse("suppliers:detail", args=[supplier.pk])).content.decode()
    assert "qualified" in detail and "Maria" not in detail


@pytest.mark.django_db
def test_certificate_download_is_permission_checked(make_user, login, site, other_site, sqe):
    supplier = make_supplier(sqe, site)
    cert = add_cert(supplier, sqe, "iso9001")
    url = reverse("suppliers:certificate_download", args=[cert.pk])
    response = login(sqe).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    outsider = make_user("outsider", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    assert login(outsider).get(url).status_code == 404  # outside the site scope: not found
    assert not cert.file.name.startswith(("suppliers/", "media/"))


@pytest.mark.django_db
def test_an_auditor_reads_a_certificate_but_neither_reviews_nor_voids_it(make_user, login, site, sqe):
    from suppliers.models import CertificateStatus

    supplier = make_supplier(sqe, site)
    cert = add_cert(supplier, sqe, "iso9001", accept=False)
    auditor = login(make_user("aud", roles=[Role.AUDITOR]))
    url = reverse("suppliers:certificate_review", args=[cert.pk])
    page = auditor.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and cert.number in body
    assert 'name="decision"' not in body and 'data-decision-refused="certificate.accept"' in body
    assert reverse("suppliers:certificate_void", args=[cert.pk]) not in body
    assert auditor.post(url, {"decision": "accept", "comment": "looks fine"}).status_code == 403
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.PENDING_REVIEW


@pytest.mark.django_db
def test_scan_resolver_and_dashboard_tile(login, site, sqe):
    supplier = make_supplier(sqe, site, code="SUP-SCAN")
    add_cert(supplier, sqe, "iso9001", days=20)
    client = login(sqe)
    response = client.get(reverse("portal:scan") + "?q=sup-scan")
    assert response.status_code == 302 and response["Location"] == reverse("suppliers:detail", args=[supplier.pk])
    assert expiring_certificates_tile(sqe)["value"] == 1
