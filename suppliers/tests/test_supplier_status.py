import datetime

import pytest
from django.utils import timezone

from compliance.models import Signature
from qms.core.errors import DomainError, PermissionRefused
from suppliers import services
from suppliers.models import CertificateType, Supplier, SupplierStatus, SupplierStatusChange
from suppliers.tests.factories import add_cert, cred, make_supplier, qualify, reviewer_for

S = SupplierStatus
ALL = list(S.values)
# decision -> statuses it is allowed from (and where it leads)
ALLOWED = {
    "start_evaluation": ({S.PROSPECTIVE}, S.UNDER_EVALUATION),
    "approve": ({S.UNDER_EVALUATION, S.CONDITIONAL}, S.APPROVED),
    "approve_conditionally": ({S.UNDER_EVALUATION, S.APPROVED}, S.CONDITIONAL),
    "suspend": ({S.APPROVED, S.CONDITIONAL}, S.SUSPENDED),
    "reinstate": ({S.SUSPENDED}, S.APPROVED),
    "disqualify": ({S.UNDER_EVALUATION, S.APPROVED, S.CONDITIONAL, S.SUSPENDED}, S.DISQUALIFIED),
    "requalify": ({S.DISQUALIFIED}, S.UNDER_EVALUATION),
}
PATH = {  # how to reach each status from prospective
    S.PROSPECTIVE: [],
    S.UNDER_EVALUATION: ["start_evaluation"],
    S.APPROVED: ["start_evaluation", "approve"],
    S.CONDITIONAL: ["start_evaluation", "approve_conditionally"],
    S.SUSPENDED: ["start_evaluation", "approve", "suspend"],
    S.DISQUALIFIED: ["start_evaluation", "disqualify"],
}


APPROVING = ("approve", "approve_conditionally", "reinstate")


def decider(action, user):
    """Segregation of duties: the creator of the supplier does not approve it; a second person does."""
    return reviewer_for(user) if action in APPROVING else user


def decide(supplier, action, user):
    user = decider(action, user)
    kwargs = {"supplier": supplier, "user": user, "credential": cred(user), "reason": f"test {action}"}
    if action == "approve_conditionally":
        kwargs["until"] = timezone.localdate() + datetime.timedelta(days=60)
    return services.SUPPLIER_DECISION_SERVICES[action](**kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_every_transition_allowed_or_refused(site, sqe, start, action):
    supplier = qualify(make_supplier(sqe, site), sqe)
    for step in PATH[start]:
        decide(supplier, step, sqe)
    assert supplier.status == start
    sources, target = ALLOWED[action]
    if start in sources:
        change = decide(supplier, action, sqe)
        supplier.refresh_from_db()
        assert supplier.status == target
        assert change.from_status == start and change.to_status == target
        sig = Signature.objects.get(model="suppliers.supplierstatuschange", object_id=str(change.pk))
        assert sig.signer == decider(action, sqe) and sig.reason == f"test {action}"
    else:
        with pytest.raises(DomainError, match="cannot be"):
            decide(supplier, action, sqe)
        supplier.refresh_from_db()
        assert supplier.status == start


@pytest.mark.django_db
def test_approval_refused_while_mandatory_item_missing_or_expired(site, sqe):
    supplier = make_supplier(sqe, site)
    decide(supplier, "start_evaluation", sqe)
    with pytest.raises(DomainError) as exc:
        decide(supplier, "approve", sqe)
    msg = str(exc.value)
    assert "IATF 16949" in msg and "Business licence" in msg and "Quality agreement" in msg and "audit" in msg
    qualify(supplier, sqe)
    # An expired IATF certificate still refuses approval.
    iatf = supplier.certificates.get(cert_type=CertificateType.IATF_16949)
    services.certificate_void(certificate=iatf, user=sqe, reason="test")
    add_cert(supplier, sqe, CertificateType.IATF_16949, valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(DomainError, match="expired on"):
        decide(supplier, "approve", sqe)
    add_cert(supplier, sqe, CertificateType.IATF_16949, days=300, number="IATF-NEW")
    decide(supplier, "approve", sqe)
    assert Supplier.objects.get(pk=supplier.pk).status == S.APPROVED


@pytest.mark.django_db
def test_conditional_approval_needs_legal_licence_and_end_date(site, sqe):
    supplier = make_supplier(sqe, site)
    decide(supplier, "start_evaluation", sqe)
    with pytest.raises(DomainError, match="Business licence"):
        decide(supplier, "approve_conditionally", sqe)
    add_cert(supplier, sqe, CertificateType.BUSINESS_LICENCE, days=None)
    with pytest.raises(DomainError, match="end date"):
        services.supplier_approve_conditionally(
            supplier=supplier, user=sqe, credential=cred(sqe), reason="x", until=timezone.localdate()
        )
    decide(supplier, "approve_conditionally", sqe)
    supplier.refresh_from_db()
    assert supplier.status == S.CONDITIONAL and supplier.conditional_until is not None


@pytest.mark.django_db
def test_decision_needs_reason_role_and_own_signature(site, sqe, qe, qm):
    supplier = make_supplier(sqe, site)
    with pytest.raises(DomainError, match="reason"):
        services.supplier_start_evaluation(supplier=supplier, user=sqe, credential=cred(sqe), reason=" ")
    with pytest.raises(PermissionRefused):
        services.supplier_start_evaluation(supplier=supplier, user=qe, credential=cred(qe), reason="x")
    with pytest.raises(DomainError, match="signature"):
        services.supplier_start_evaluation(supplier=supplier, user=qm, credential=cred(sqe), reason="x")
    services.supplier_start_evaluation(supplier=supplier, user=qm, credential=cred(qm), reason="ok")
    assert SupplierStatusChange.objects.filter(supplier=supplier).count() == 1


@pytest.mark.django_db
def test_history_is_kept(site, sqe):
    supplier = qualify(make_supplier(sqe, site), sqe)
    for step in ["start_evaluation", "approve", "suspend", "reinstate", "disqualify", "requalify"]:
        decide(supplier, step, sqe)
    history = list(SupplierStatusChange.objects.filter(supplier=supplier).order_by("decided_at", "pk"))
    assert [h.to_status for h in history] == [
        S.UNDER_EVALUATION, S.APPROVED, S.SUSPENDED, S.APPROVED, S.DISQUALIFIED, S.UNDER_EVALUATION,
    ]  # fmt: skip
    assert Signature.objects.filter(model="suppliers.supplierstatuschange").count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize("action", APPROVING)
def test_the_creator_of_a_supplier_cannot_approve_it(site, sqe, action):
    """Issue 9: the SQE created a supplier and e-signed its approval."""
    supplier = qualify(make_supplier(sqe, site), sqe)
    decide(supplier, "start_evaluation", sqe)
    if action == "reinstate":
        decide(supplier, "approve", sqe)
        decide(supplier, "suspend", sqe)
    kwargs = {"supplier": supplier, "user": sqe, "credential": cred(sqe), "reason": "mine"}
    if action == "approve_conditionally":
        kwargs["until"] = timezone.localdate() + datetime.timedelta(days=60)
    before = Supplier.objects.get(pk=supplier.pk).status
    with pytest.raises(PermissionRefused, match="authored supplier"):
        services.SUPPLIER_DECISION_SERVICES[action](**kwargs)
    assert Supplier.objects.get(pk=supplier.pk).status == before
