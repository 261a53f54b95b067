"""The reusable signing step (21 CFR Part 11 §11.50, §11.200, §11.300): tested on a real record (core.Part)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from compliance.forms import SignatureForm
from compliance.models import AuditEntry, Signature, SignatureAttempt
from compliance.signatures import (
    SignatureRefused,
    record_hash,
    signature_authenticate,
    signature_is_valid,
    signature_record,
    signatures_with_validity,
)
from qms.core.audit import audit_context
from qms.core.models import Part

from .factories import make_part

pytestmark = pytest.mark.django_db
PASSWORD = "test-Password-123"  # conftest.PASSWORD


def make_request(user, *, signed_once=False, data=None):
    request = RequestFactory().post("/sign/", data or {})
    request.user = user
    request.session = SessionStore()
    request.session["signed_once"] = signed_once
    return request


def part_approve(*, part, credential, reason):
    """What a domain service does: change the record, then sign it inside the same transaction."""
    with transaction.atomic(), audit_context(user=credential.user, reason=reason):
        part = Part.objects.select_for_update().get(pk=part.pk)
        part.is_regulated = True
        part.save()
        return part, signature_record(credential=credential, instance=part, meaning="approved", reason=reason)


@pytest.fixture
def qm(make_user):
    return make_user("qm", display_name="Li Wei")


@pytest.fixture
def part(qm):
    return make_part(user=qm)


def test_first_signature_of_a_session_needs_the_username(qm, part):
    request = make_request(qm)
    form = SignatureForm({"password": PASSWORD}, request=request, meaning="approved")
    assert form.needs_username and "username" in form.fields
    assert not form.is_valid()
    assert "username" in form.errors

    form = SignatureForm({"username": "someone_else", "password": PASSWORD}, request=request, meaning="approved")
    assert not form.is_valid() and form.credential is None
    assert SignatureAttempt.objects.filter(user=qm, reason="username mismatch").exists()

    form = SignatureForm({"username": "QM", "password": PASSWORD}, request=request, meaning="approved")
    assert form.is_valid(), form.errors
    assert request.session["signed_once"] is True
    # the next signature in the same session asks only for the password
    again = SignatureForm({"password": PASSWORD}, request=request, meaning="approved")
    assert not again.needs_username and "username" not in again.fields
    assert again.is_valid(), again.errors


def test_right_password_records_meaning_time_and_hash(qm, part):
    request = make_request(qm, signed_once=True)
    form = SignatureForm({"password": PASSWORD, "reason": "PPAP approved"}, request=request, meaning="approved")
    assert form.is_valid(), form.errors
    before = timezone.now()
    part, sig = part_approve(part=part, credential=form.credential, reason=form.cleaned_data["reason"])
    assert sig.signer == qm and sig.printed_name == "Li Wei"
    assert sig.meaning == "approved" and sig.get_meaning_display() == "Approved"
    assert before <= sig.signed_at <= timezone.now()
    assert sig.model == "core.part" and sig.object_id == str(part.pk)
    assert sig.record_hash == record_hash(Part.objects.get(pk=part.pk)) and len(sig.record_hash) == 64
    assert sig.reason == "PPAP approved"
    assert signature_is_valid(sig, Part.objects.get(pk=part.pk))
    entry = AuditEntry.objects.filter(model="core.part", object_id=str(part.pk), action="sign").get()
    assert entry.changes["meaning"] == [None, "approved"] and entry.username == "qm"
    assert entry.reason == "PPAP approved"


def test_wrong_password_is_refused_logged_and_locks_out(qm, part):
    request = make_request(qm, signed_once=True)
    for i in range(settings.LOCKOUT_THRESHOLD):
        form = SignatureForm({"password": "wrong"}, request=request, meaning="approved")
        assert not form.is_valid()
        assert form.credential is None
        assert ("locked" in str(form.non_field_errors())) == (i == settings.LOCKOUT_THRESHOLD - 1)
    assert SignatureAttempt.objects.filter(user=qm, reason="wrong password").count() == settings.LOCKOUT_THRESHOLD
    qm.refresh_from_db()
    assert qm.is_locked
    # locked: even the right password is refused now, and the attempt is kept
    form = SignatureForm({"password": PASSWORD}, request=request, meaning="approved")
    assert not form.is_valid() and "locked" in str(form.non_field_errors())
    assert SignatureAttempt.objects.filter(user=qm, reason="account locked").exists()
    assert not Signature.objects.exists()


def test_failed_attempt_is_kept_when_made_outside_the_decision_transaction(qm):
    with pytest.raises(RuntimeError), transaction.atomic():
        with pytest.raises(SignatureRefused):
            signature_authenticate(user=qm, password="wrong", purpose="approve part")
        raise RuntimeError("the decision failed")
    # signature_authenticate runs outside the decision's transaction in views; inside one it rolls back with it
    assert SignatureAttempt.objects.count() == 0
    with pytest.raises(SignatureRefused):
        signature_authenticate(user=qm, password="wrong", purpose="approve part")
    assert SignatureAttempt.objects.filter(model="approve part").count() == 1


def test_changing_the_record_after_signing_invalidates_the_signature(qm, part):
    credential = signature_authenticate(user=qm, password=PASSWORD)
    part, sig = part_approve(part=part, credential=credential, reason="approved")
    assert signatures_with_validity(Part.objects.get(pk=part.pk)) == [(sig, True)]
    fresh = Part.objects.get(pk=part.pk)
    fresh.name = "Bearing ring, changed after approval"
    with audit_context(user=qm):
        fresh.save(reason="late edit")
    [(signature, valid)] = signatures_with_validity(Part.objects.get(pk=part.pk))
    assert signature == sig and valid is False
    html = render_to_string(
        "compliance/partials/_signatures.html", {"signatures": signatures_with_validity(Part.objects.get(pk=part.pk))}
    )
    assert "No longer valid: the signed content changed after signing." in html
    assert "Li Wei" in html and "(qm)" in html and "Approved" in html and " UTC" in html


def test_record_hash_is_stable_across_a_save():
    part = Part(number="H-1", name="x", part_type="raw", unit="kg", shelf_life_days="30")
    in_memory = record_hash(part)
    with audit_context(reason="t"):
        part.save()
    assert record_hash(part) != in_memory  # the id was assigned
    stored = Part.objects.get(pk=part.pk)
    part.shelf_life_days = "30"  # a string, as a form or an import may assign it
    assert record_hash(part) == record_hash(stored)


def test_decimal_places_do_not_change_the_hash():
    from compliance.signatures import _canonical

    field = Decimal("1.5"), Decimal("1.50")

    class F:
        decimal_places = 2

        def to_python(self, value):
            return Decimal(value)

    assert _canonical(F(), field[0]) == _canonical(F(), field[1])


def test_expired_or_forged_credential_is_refused(qm, part):
    with pytest.raises(SignatureRefused):
        signature_record(credential=object(), instance=part, meaning="approved")
    credential = signature_authenticate(user=qm, password=PASSWORD)
    with pytest.raises(SignatureRefused):
        signature_record(credential=credential, instance=part, meaning="liked")
    import time_machine

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=10)), pytest.raises(SignatureRefused):
        signature_record(credential=credential, instance=part, meaning="approved")


def test_sign_fields_partial(qm):
    request = make_request(qm)
    html = render_to_string(
        "compliance/partials/_sign_fields.html",
        {"form": SignatureForm(request=request, meaning="released")},
    )
    assert 'name="username"' in html and 'name="password"' in html and 'name="reason"' in html
    assert "Released" in html and "By signing you confirm" in html and "Li Wei" in html
    request = make_request(qm, signed_once=True)
    html = render_to_string(
        "compliance/partials/_sign_fields.html", {"form": SignatureForm(request=request, meaning="released")}
    )
    assert 'name="username"' not in html and 'name="password"' in html
