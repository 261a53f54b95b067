"""Site isolation of the audit trail and of stored reports (issue 9, item 4): the parts owned by the
"evidence" stream (audit entries filtered by the site of the record they describe; merged, these pass)
and the "access" stream (generated-report downloads), kept apart from tests/test_site_isolation.py.

`site` plays BRG, `other_site` plays FOOD; `food_*` users hold a role at FOOD only.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from compliance.pdf import render_report_pdf
from compliance.reports import REPORTS, resolve_params
from nonconformance.tests import factories as ncr_f
from qms.core import policy
from qms.core.models import Role
from qms.core.scoping import site_scope


@pytest.fixture
def brg_qm(make_user, site):
    return make_user("brg_qm", roles=[Role.QUALITY_MANAGER], sites=[site])


@pytest.fixture
def brg_ncr(site, brg_qm):
    return ncr_f.open_ncr(site, brg_qm)


@pytest.fixture(params=[Role.QUALITY_MANAGER, Role.AUDITOR, Role.QUALITY_ENGINEER])
def food_user(request, make_user, other_site):
    return make_user(f"food_{request.param}", roles=[request.param], sites=[other_site])


@pytest.mark.django_db
def test_audit_trail_page_shows_no_entry_of_another_sites_record(client, brg_ncr, food_user):
    client.force_login(food_user)
    for query in ({}, {"model": "nonconformance.ncr", "object_id": brg_ncr.pk}, {"username": "brg_qm"}):
        page = client.get(reverse("compliance:audit_trail"), query)
        assert page.status_code in (200, 403, 404)
        assert brg_ncr.code not in page.content.decode(), query


@pytest.mark.django_db
@pytest.mark.parametrize("key,params", [("audit.trail", {}), ("audit.user", {"user": "brg_qm"})])
def test_audit_trail_and_user_reports_contain_no_entry_of_another_site(brg_ncr, food_user, key, params):
    report = REPORTS[key]
    with site_scope(policy.sites_for(food_user)):
        context = report.build(resolve_params(report, params), food_user)
        body = render_to_string(report.template, {**context, "report": report, "params": params})
    assert brg_ncr.code not in body


@pytest.mark.django_db
def test_generated_report_of_another_site_cannot_be_downloaded(client, site, brg_qm, brg_ncr, food_user):
    _pdf, stored = render_report_pdf(key="nonconformance.ncr", params={"ncr": brg_ncr.code}, user=brg_qm)
    client.force_login(food_user)
    response = client.get(reverse("compliance:generated_download", args=[stored.pk]))
    assert response.status_code in (403, 404)
    listing = client.get(reverse("compliance:generated_reports")).content.decode()
    assert stored.document_number not in listing
