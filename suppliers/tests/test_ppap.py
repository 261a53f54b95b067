import datetime

import pytest
from django.utils import timezone

from qms.core.errors import DomainError, PermissionRefused
from suppliers import services
from suppliers.models import AslEntry, AslStatus, PpapElement, PpapStatus
from suppliers.ppap import ELEMENTS, PHYSICAL, required_elements
from suppliers.tests.factories import approved_supplier, cred, make_part, pdf


def test_level_table():
    assert len(ELEMENTS) == 18
    assert required_elements(1) == {13, 18}
    assert 18 in required_elements(2) and 4 not in required_elements(2)
    assert required_elements(5) == set(range(1, 19))


def _submitted(site, sqe, qe, level=3):
    part = make_part()
    supplier = approved_supplier(sqe, site)
    sub = services.ppap_create(supplier=supplier, part=part, level=level, reason="initial", user=sqe)
    assert sub.elements.count() == 18 and AslEntry.objects.get(supplier=supplier, part=part).status == AslStatus.PENDING
    with pytest.raises(DomainError, match="Missing"):
        services.ppap_submit(submission=sub, user=sqe)
    for el in PpapElement.objects.filter(submission=sub, required=True).exclude(number__in=PHYSICAL):
        services.ppap_attachment_add(element=el, upload=pdf(f"e{el.number}.pdf"), user=sqe)
    sub = services.ppap_submit(submission=sub, user=sqe)
    assert sub.status == PpapStatus.IN_REVIEW and sub.submitted_by == sqe
    return sub, part


def _review_all(sub, qe, status="accepted"):
    for el in PpapElement.objects.filter(submission=sub, required=True).select_related("submission"):
        services.ppap_element_review(element=el, user=qe, status=status, comment="" if status == "accepted" else "no")


@pytest.mark.django_db
def test_psw_approval_sets_asl_and_is_not_by_the_submitter(site, sqe, qe, qm):
    sub, part = _submitted(site, sqe, qe)
    with pytest.raises(DomainError, match="element 18"):
        services.ppap_approve(submission=sub, user=qm, credential=cred(qm))
    _review_all(sub, qe)
    with pytest.raises(PermissionRefused, match="submitted"):
        services.ppap_approve(submission=sub, user=sqe, credential=cred(sqe))
    with pytest.raises(PermissionRefused):  # a quality engineer reviews but does not approve the PSW
        services.ppap_approve(submission=sub, user=qe, credential=cred(qe))
    sub = services.ppap_approve(submission=sub, user=qm, credential=cred(qm), reason="PSW ok")
    assert sub.status == PpapStatus.APPROVED
    entry = AslEntry.objects.get(supplier=sub.supplier, part=part)
    assert entry.status == AslStatus.APPROVED and entry.ppap == sub
    assert services.supplier_can_supply(supplier=sub.supplier, part=part).ok


@pytest.mark.django_db
def test_interim_and_rejection_recorded_with_reason(site, sqe, qe, qm):
    sub, part = _submitted(site, sqe, qe)
    psw = PpapElement.objects.select_related("submission").get(submission=sub, number=18)
    services.ppap_element_review(element=psw, user=qe, status="accepted")
    with pytest.raises(DomainError, match="Open"):
        services.ppap_approve(submission=sub, user=qm, credential=cred(qm))
    with pytest.raises(DomainError, match="reason"):
        services.ppap_approve_interim(
            submission=sub,
            user=qm,
            credential=cred(qm),
            reason="",
            until=timezone.localdate() + datetime.timedelta(days=30),
        )
    until = timezone.localdate() + datetime.timedelta(days=30)
    sub = services.ppap_approve_interim(
        submission=sub, user=qm, credential=cred(qm), reason="capability pending", until=until
    )
    assert sub.status == PpapStatus.INTERIM and sub.decision_reason == "capability pending"
    entry = AslEntry.objects.get(supplier=sub.supplier, part=part)
    assert entry.status == AslStatus.CONDITIONAL and entry.conditional_until == until
    sub = services.ppap_reject(submission=sub, user=qm, credential=cred(qm), reason="Cpk 0.9")
    assert sub.status == PpapStatus.REJECTED and sub.decision_reason == "Cpk 0.9"


@pytest.mark.django_db
def test_element_review_rules(site, sqe, qe):
    sub, _part = _submitted(site, sqe, qe)
    psw = PpapElement.objects.select_related("submission").get(submission=sub, number=18)
    with pytest.raises(DomainError, match="always required"):
        services.ppap_element_review(element=psw, user=qe, status="not_applicable", comment="x")
    el = PpapElement.objects.select_related("submission").get(submission=sub, number=9)
    with pytest.raises(DomainError, match="why"):
        services.ppap_element_review(element=el, user=qe, status="rejected")
    services.ppap_element_review(element=el, user=qe, status="rejected", comment="out of tolerance")
    sub = services.ppap_return(submission=sub, user=qe, reason="fix element 9")
    assert sub.status == PpapStatus.OPEN
