"""Audit entries are filed under the site of the record they describe, and the audit pages and reports
show a user only the entries of their sites (plus global master data; user accounts to QMs/admins)."""

import pytest
from django.urls import reverse

from compliance.models import AuditEntry
from compliance.reports_builtin import build_trail, build_user
from qms.core.models import Role
from traceability.services import lot_hold_place

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def brg_world(site, other_site, make_user):
    """`site` plays BRG, `other_site` plays FOOD."""
    qm_brg = make_user("qm_brg", roles=[Role.QUALITY_MANAGER], sites=[site])
    lot = f.lot(site, code="BRG-LOT-1")
    hold = lot_hold_place(lot=lot, source="manual", reason="suspect bore", user=qm_brg)
    food_lot = f.lot(other_site, code="FOOD-LOT-1")
    food_qm = make_user("food_qm", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    food_auditor = make_user("food_aud", roles=[Role.AUDITOR], sites=[other_site])
    return {"lot": lot, "hold": hold, "food_lot": food_lot, "food_qm": food_qm, "food_auditor": food_auditor}


def test_entries_carry_the_site_of_their_record(site, other_site, brg_world):
    lot, hold = brg_world["lot"], brg_world["hold"]
    assert set(
        AuditEntry.objects.filter(model="traceability.lot", object_id=str(lot.pk)).values_list("site_id", flat=True)
    ) == {site.pk}
    # A hold has no site of its own: filed under its lot's site (declared audit_site_path).
    assert (
        AuditEntry.objects.filter(model="traceability.lothold", object_id=str(hold.pk))
        .values_list("site_id", flat=True)
        .get()
        == site.pk
    )
    assert AuditEntry.objects.get(model="core.site", object_id=str(other_site.pk)).site_id == other_site.pk
    assert AuditEntry.objects.filter(model="core.part").values_list("site_id", flat=True).distinct().get() is None


@pytest.mark.parametrize("who", ["food_qm", "food_auditor"])
def test_record_trail_of_a_brg_record_is_refused_to_food_users(client, brg_world, who):
    client.force_login(brg_world[who])
    for label, obj in (("traceability.lot", brg_world["lot"]), ("traceability.lothold", brg_world["hold"])):
        url = reverse("compliance:record_trail", args=[label, obj.pk])
        # Refused: 404 when the record is not visible at the user's sites at all, 403 otherwise.
        assert client.get(url).status_code in (403, 404)
        assert client.get(url, headers={"HX-Request": "true"}).status_code in (403, 404)
    own = reverse("compliance:record_trail", args=["traceability.lot", brg_world["food_lot"].pk])
    assert client.get(own).status_code == 200


def test_audit_trail_page_never_lists_other_sites(client, site, brg_world):
    client.force_login(brg_world["food_qm"])
    url = reverse("compliance:audit_trail")
    page = client.get(url, {"model": "traceability.lot", "object_id": brg_world["lot"].pk})
    assert page.status_code == 200 and "BRG-LOT-1" not in page.content.decode()
    page = client.get(url)
    listed = [row.entry for row in page.context["rows"]]
    assert listed and all(e.site_id in (None, brg_world["food_lot"].site_id) for e in listed)
    assert "FOOD-LOT-1" in page.content.decode() and "BRG-LOT-1" not in page.content.decode()


def test_reports_are_filtered_and_record_pdf_refused(client, brg_world):
    from django.core.exceptions import PermissionDenied

    from compliance.reports_builtin import build_record

    food_qm = brg_world["food_qm"]
    trail = build_trail({}, food_qm)
    assert trail["rows"] and all(r.entry.site_id in (None, brg_world["food_lot"].site_id) for r in trail["rows"])
    mine = build_user({"user": "qm_brg"}, food_qm)
    assert all(r.entry.site_id is None for r in mine["rows"])  # qm_brg's BRG work is not FOOD's business
    with pytest.raises(PermissionDenied):
        build_record({"model": "traceability.lot", "id": str(brg_world["lot"].pk)}, food_qm)
    client.force_login(food_qm)
    response = client.get(
        reverse("compliance:report_pdf", args=["audit.record"]),
        {"model": "traceability.lothold", "id": brg_world["hold"].pk},
    )
    assert response.status_code == 403


def test_user_account_entries_only_for_quality_managers_and_admins(client, brg_world):
    from compliance.selectors import audit_entries

    auditor, qm = brg_world["food_auditor"], brg_world["food_qm"]
    assert not audit_entries(viewer=auditor, model="core.user").exists()
    assert audit_entries(viewer=qm, model="core.user").exists()
    assert audit_entries(viewer=auditor, model="core.part").exists()  # global master data
    client.force_login(auditor)
    assert client.get(reverse("compliance:record_trail", args=["core.user", qm.pk])).status_code == 403


def test_migration_backfill_restores_sites(site, other_site, brg_world):
    import importlib

    from django.db import connection

    backfill = importlib.import_module("compliance.migrations.0004_evidence_guards_site_backfill")
    before = dict(AuditEntry.objects.values_list("seq", "site_id"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")  # undone by the rollback
        cursor.execute("UPDATE compliance_auditentry SET site_id = NULL")
        for sql, params in backfill._backfill_sql(connection):
            cursor.execute(sql, params)
    after = dict(AuditEntry.objects.values_list("seq", "site_id"))
    assert after == before and site.pk in after.values() and other_site.pk in after.values()
