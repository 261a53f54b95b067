"""A failed e-signature counts towards the kernel account lock, which ends the signer's sessions."""

import pytest
from django.test import Client
from django.urls import reverse

from compliance.signatures import SignatureRefused, signature_authenticate


@pytest.mark.django_db
def test_failed_signatures_still_count_towards_the_account_lock(make_user, settings):
    settings.LOCKOUT_THRESHOLD = 3
    user = make_user("qm2")
    session_holder = Client()
    session_holder.force_login(user)
    Client().post(reverse("core:login"), {"username": "qm2", "password": "wrong"})  # one failed sign-in ...
    for _ in range(2):  # ... and two failed signatures lock the account
        with pytest.raises(SignatureRefused):
            signature_authenticate(user=user, password="wrong")
    user.refresh_from_db()
    assert user.is_locked
    assert session_holder.get(reverse("portal:dashboard")).status_code == 302
