"""Tokens: shown once, stored hashed, expiry, revoke, last use; problem details; session reads only."""

import datetime

import pytest
from django.utils import timezone

from api.models import ApiToken
from api.services import token_revoke
from compliance.models import AuditEntry
from qms.core.audit import audit_context
from qms.core.models import Role
from traceability.tests import factories as tf

from .factories import TokenClient, account, api_client, token

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_works(admin, site):
    acc = account(admin, site)
    tok, raw = token(admin, acc)
    assert raw.startswith(f"qms_{tok.prefix}_") and raw not in tok.secret_hash and len(tok.secret_hash) == 64
    client = TokenClient(raw, REMOTE_ADDR="10.1.2.3")
    response = client.get("/api/v1/lots/")
    assert response.status_code == 200, response.content
    tok.use.refresh_from_db()
    assert tok.use.last_used_ip == "10.1.2.3" and tok.use.last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer qms_abc_def", "Bearer", "Bearer a b"])
def test_bad_tokens_are_refused_as_problem_details(db, header):
    response = TokenClient("x").get("/api/v1/lots/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["type"].startswith("/api/problems/") and body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_refused(admin, site):
    acc = account(admin, site)
    tok, raw = token(admin, acc)
    token_revoke(token=tok, user=admin, reason="leaked")
    response = TokenClient(raw).get("/api/v1/lots/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    tok2, raw2 = token(admin, acc)
    with audit_context(reason="test"):
        tok2.expires_at = timezone.now() - datetime.timedelta(seconds=1)
        tok2.save()
    response = TokenClient(raw2).get("/api/v1/lots/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_only_an_administrator_issues_tokens(make_user, admin, site):
    from qms.core.errors import PermissionRefused

    acc = account(admin, site)
    qm = make_user("qm2", roles=[Role.QUALITY_MANAGER])
    with pytest.raises(PermissionRefused):
        token(qm, acc)
    assert ApiToken.objects.filter(account=acc).count() == 0


def test_browser_session_reads_but_never_writes(client, make_user, site):
    user = make_user("reader", roles=[Role.QUALITY_MANAGER])
    client.force_login(user)
    assert client.get("/api/v1/lots/").status_code == 200
    response = client.post("/api/v1/lots/receipts/", {}, content_type="application/json")
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"


def test_writes_are_audited_with_source_api_and_the_integration(admin, site, make_user):
    from suppliers.tests import factories as sf

    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    part = tf.part()
    sup = sf.approved_supplier(qm, site, code="SUP-A", part=part)
    client = api_client(admin, site, name="erp", roles=[Role.INSPECTOR])
    response = client.post_json(
        "/api/v1/lots/receipts/",
        {"site": site.code, "part": part.number, "supplier": sup.code, "supplier_lot": "SL-1", "quantity": "50"},
    )
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.filter(model="traceability.lot").order_by("-seq").first()
    assert entry.source == "api" and entry.username == "erp"


def test_schema_and_docs(client, make_user, site):
    client.force_login(make_user("someone", roles=[Role.INSPECTOR]))
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/measurements/" in paths and "/api/v1/lots/{code}/ship-check/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.content
    assert "unsafe-inline" not in docs["Content-Security-Policy"]
