"""Issue 15: approving a document version from concurrent requests takes effect once (the version row is
locked and its state re-checked); one version in force per document. PostgreSQL, real threads."""

import pytest
from django.db import connection

from compliance.models import Signature
from documents import services
from documents.models import DocumentVersion
from documents.tests import factories as f
from qms.core.models import Role
from tests.test_concurrency_decisions import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_eight_concurrent_approvals_take_effect_once(site, make_user):
    people = {
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR]),
    }
    approvers = [make_user(f"qm{i}", roles=[Role.QUALITY_MANAGER]) for i in range(8)]
    doc = f.document(site, people)
    version = f.in_review(doc, people)
    services.version_review(version=version, user=people["sup"], credential=f.cred(people["sup"]))

    def approve(user):
        return services.version_approve(version=version, user=user, credential=f.cred(user))

    outcomes = run_at_once(approve, [(u,) for u in approvers], site_ids=[site.pk])
    assert sum(1 for kind, _ in outcomes if kind == "ok") == 1, outcomes
    assert all("only a version in review" in msg for kind, msg in outcomes if kind == "refused"), outcomes
    version.refresh_from_db()
    assert version.status == "effective"
    assert (
        Signature.objects.filter(
            model="documents.documentversion", object_id=str(version.pk), meaning="approved"
        ).count()
        == 1
    )
    assert DocumentVersion.objects.filter(document=doc, status="effective").count() == 1
