"""The audit trail reads as a person reads it: names and codes, not database ids."""

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.audit_trail import audit_chain_check_and_alert
from compliance.models import AuditEntry
from compliance.selectors import entry_rows
from nonconformance.tests import factories as nc
from qms.core.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def qm(make_user):
    return make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Li Na")


def _changes(row) -> dict:
    return {c.name: (c.old, c.new) for c in row.changes}


def test_an_ncr_entry_names_the_user_and_the_lot_by_code_not_by_id(site, qm):
    lot = nc.lot(site, nc.part(), code="LOT-RDBL-1")
    ncr = nc.open_ncr(site, qm, lots=[lot])
    link_entry = AuditEntry.objects.filter(model="nonconformance.ncrlot").last()
    ncr_entry = AuditEntry.objects.filter(model="nonconformance.ncr", object_id=str(ncr.pk)).first()
    link_row, ncr_row = entry_rows([link_entry, ncr_entry])
    assert link_row.who == "Li Na (qm)"
    assert "LOT-RDBL-1" in _changes(link_row)["lot_id"][1]
    assert ncr.code in _changes(link_row)["ncr_id"][1]
    assert _changes(ncr_row)["created_by_id"][1] == "Li Na (qm)"
    assert _changes(ncr_row)["site_id"][1].startswith(site.code)
    assert _changes(ncr_row)["status"][1] == "Open"  # the choice's label, not its value


def test_choice_labels_are_translated(site, qm):
    from django.utils import translation

    ncr = nc.open_ncr(site, qm)
    entry = AuditEntry.objects.filter(model="nonconformance.ncr", object_id=str(ncr.pk)).first()
    with translation.override("zh-hans"):
        (row,) = entry_rows([entry])
        status = _changes(row)["status"][1]
    assert status != "open" and status != "Open"


def test_the_audit_page_shows_names_searches_by_code_and_uses_constant_queries(login, site, qm):
    lot = nc.lot(site, nc.part(), code="LOT-RDBL-2")
    ncr = nc.open_ncr(site, qm, lots=[lot])
    client = login(qm)
    html = client.get(reverse("compliance:audit_trail"), {"record": ncr.code}).content.decode()
    assert "Li Na (qm)" in html and "LOT-RDBL-2" in html
    assert "object (" not in html  # never "GeneratedReport object (5)"
    assert f"#{qm.pk}<" not in html
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("compliance:audit_trail"), {"record": ncr.code})
    for i in range(3):
        nc.open_ncr(site, qm, lots=[nc.lot(site, nc.part(), code=f"LOT-RDBL-X{i}")])
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("compliance:audit_trail"))
    assert len(many.captured_queries) <= len(few.captured_queries) + 3


def test_every_model_has_a_readable_text():
    """No page or PDF may show "X object (n)": every model defines __str__."""
    from django.db import models

    missing = [
        m._meta.label
        for m in apps.get_models()
        if m.__module__.split(".")[0] in {"compliance", "qms", "suppliers", "traceability", "inspection",
                                          "nonconformance", "capa"}
        and m.__str__ is models.Model.__str__
    ]  # fmt: skip
    assert missing == []


def test_last_full_verification_shows_the_scheduled_run(login, qm):
    client = login(qm)
    assert "No full verification has been run yet." in client.get(reverse("compliance:audit_trail")).content.decode()
    assert audit_chain_check_and_alert().ok
    html = client.get(reverse("compliance:audit_trail")).content.decode()
    assert "No full verification has been run yet." not in html and "Last full verification" in html
