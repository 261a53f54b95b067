"""Demo data (quick start only): defect catalogue, MRB rules, an IQC reject in MRB review waiting for one
signature, a concession, a scrap, and a customer complaint traced to a supplier lot. Builds on the
traceability / inspection demo lots when present; creates its own otherwise. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Customer, Part, Site, User

MARKER = "DEMO-NCR"

DEFECTS = [
    ("DIM-OD", "Outer diameter out of tolerance 外径超差", "dimensional"),
    ("DIM-BORE", "Bore diameter out of tolerance 内径超差", "dimensional"),
    ("VIS-RUST", "Rust / corrosion 锈蚀", "visual"),
    ("VIS-SCR", "Scratches 划伤", "visual"),
    ("MAT-HRD", "Hardness out of specification 硬度不合格", "material"),
    ("FUN-NOISE", "Noise / vibration 异响", "functional"),
    ("PKG-LBL", "Wrong or missing label 标签错误", "packaging"),
    ("CON-FM", "Foreign matter 异物", "contamination"),
    ("DOC-COA", "Missing certificate 缺少检验报告书", "documentation"),
]


def _credential(user):
    from compliance.signatures import signature_authenticate

    return signature_authenticate(user=user, password=DEMO_PASSWORD)


def _lot(code, part, site, qty, *, supplier=None, slc="", status="quarantine", user=None, wo=None):
    from traceability.models import Lot

    lot = Lot.objects.filter(code=code).first()
    if lot is None:
        lot = Lot.objects.create(
            code=code,
            part=part,
            site=site,
            supplier=supplier,
            supplier_lot_code=slc,
            quantity=Decimal(qty),
            status=status,
            received_on=timezone.localdate() - datetime.timedelta(days=5),
            work_order=wo,
            created_by=user,
        )
    return lot


def seed_demo() -> None:
    from . import services
    from .models import DefectCode, Ncr

    with audit_context(reason="demo data", source="seed"):
        for code, name, category in DEFECTS:
            DefectCode.objects.get_or_create(code=code, defaults={"name": name, "category": category})
    sites = {s.code: s for s in Site.objects.filter(code__in=["BRG", "FOOD"])}
    users = {u.username: u for u in User.objects.filter(username__in=["qm", "qe", "mrb", "supervisor", "inspector"])}
    if "BRG" not in sites or len(users) < 5:
        return
    brg = sites["BRG"]
    for s in sites.values():
        services.mrb_rules_seed_defaults(site=s)
    if Ncr.objects.filter(source_reference__startswith=MARKER).exists():
        return
    qm, qe, mrb, sup_user = users["qm"], users["qe"], users["mrb"], users["supervisor"]
    from suppliers.models import Supplier

    supplier = Supplier.objects.filter(sites=brg).order_by("code").first()
    if supplier is None:
        with audit_context(reason="demo data", source="seed"):
            supplier = Supplier.objects.create(
                code="SUP-DEMO", name="Demo Steel Co. 演示钢厂", category="raw_material", contact_email="q@demo.invalid"
            )
            supplier.sites.add(brg)
    ring = Part.objects.filter(number="RG-6204-IN").first()
    bearing = Part.objects.filter(number="BRG-6204").first()
    if ring is None or bearing is None:
        return
    codes = {d.code: d for d in DefectCode.objects.all()}
    with audit_context(user=qe, reason="demo data", source="seed"):
        # 1. IQC reject in MRB review waiting for one signature (scrap: quality signed, production pending)
        lot1 = _lot("DEMO-IQC-RING-01", ring, brg, 2000, supplier=supplier, slc="SUP-2611-07", user=qe)
        ncr1 = services.ncr_open(
            site=brg, source="iqc", part=ring, title="IQC reject: bore oversize 内径超差", user=users["inspector"],
            lots=[lot1], quantity_confirmed=40, unit_value=Decimal("3.20"), supplier=supplier,
            defect_codes=[codes["DIM-BORE"]], source_reference=f"{MARKER}-IQC",
            failing_values=[{"characteristic": "Bore Ø20", "value": "20.034", "result": "", "lower": "19.990", "upper": "20.010"}],
            check_permission=False,
        )  # fmt: skip
        services.ncr_start_containment(ncr=ncr1, user=qe, reason="sorting")
        services.containment_action_add(
            ncr=ncr1, kind="sort", owner=users["inspector"], user=qe, description="100% bore check of the lot"
        )
        services.ncr_submit_to_mrb(ncr=ncr1, user=qe)
        services.disposition_line_add(ncr=ncr1, kind="return_to_supplier", quantity=30, user=qe, lot=lot1)
        services.disposition_line_add(ncr=ncr1, kind="scrap", quantity=10, user=qe, lot=lot1)
        d1 = services.disposition_submit(ncr=ncr1, user=qe)
        services.mrb_decide(disposition=d1, mrb_role="quality", vote="approve", user=qm, credential=_credential(qm))

        # 2. a concession (特采), executed
        lot2 = _lot("DEMO-IQC-RING-02", ring, brg, 500, supplier=supplier, slc="SUP-2611-09", user=qe)
        ncr2 = services.ncr_open(
            site=brg, source="iqc", part=ring, title="Surface scratches, function not affected 轻微划伤",
            user=users["inspector"], lots=[lot2], quantity_confirmed=500, defect_codes=[codes["VIS-SCR"]],
            source_reference=f"{MARKER}-CONC",
        )  # fmt: skip
        services.ncr_submit_to_mrb(ncr=ncr2, user=qe)
        services.disposition_line_add(
            ncr=ncr2, kind="concession", quantity=500, user=qe, lot=lot2,
            concession_expires_on=timezone.localdate() + datetime.timedelta(days=60),
            concession_quantity_limit=500, customer_approval_reference="CUST-AUTO1 DEV-2026-031",
        )  # fmt: skip
        d2 = services.disposition_submit(ncr=ncr2, user=qe)
        services.mrb_decide(disposition=d2, mrb_role="quality", vote="approve", user=qe, credential=_credential(qe))
        services.mrb_decide(
            disposition=d2, mrb_role="engineering", vote="approve", user=mrb, credential=_credential(mrb)
        )
        services.mrb_decide(disposition=d2, mrb_role="sales", vote="approve", user=qm, credential=_credential(qm))
        services.disposition_line_execute(line=d2.lines.get(), user=qe, note="released under concession")

        # 3. a scrap, executed, verified and closed
        lot3 = _lot("DEMO-FQC-BRG-03", bearing, brg, 120, user=qe)
        ncr3 = services.ncr_open(
            site=brg, source="fqc", part=bearing, title="FQC: noise test failed 噪声测试不合格", user=qe, lots=[lot3],
            quantity_confirmed=120, unit_value=Decimal("8.50"), defect_codes=[codes["FUN-NOISE"]],
            source_reference=f"{MARKER}-SCRAP",
        )  # fmt: skip
        services.ncr_submit_to_mrb(ncr=ncr3, user=qe)
        services.disposition_line_add(ncr=ncr3, kind="scrap", quantity=120, user=qe, lot=lot3)
        d3 = services.disposition_submit(ncr=ncr3, user=qe)
        services.mrb_decide(disposition=d3, mrb_role="quality", vote="approve", user=qm, credential=_credential(qm))
        services.mrb_decide(
            disposition=d3, mrb_role="production", vote="approve", user=sup_user, credential=_credential(sup_user)
        )
        services.disposition_line_execute(line=d3.lines.get(), user=qe, note="scrapped, scrap note SC-118")
        ncr3 = services.ncr_verify(
            ncr=Ncr.objects.get(pk=ncr3.pk), user=qm, credential=_credential(qm), reason="scrap confirmed"
        )
        services.ncr_close(ncr=ncr3, user=qm)

        # 4. a customer complaint traced to a supplier lot
        _complaint(brg, bearing, supplier, qm)


def _complaint(site, bearing, supplier, qm) -> None:
    from traceability.models import Lot, LotLink

    from . import services

    customer = Customer.objects.filter(code="CUST-AUTO1").first() or Customer.objects.first()
    if customer is None:
        return
    # Prefer a finished lot of the traceability demo that was made from a supplier lot.
    fg = (
        Lot.objects.filter(site=site, part=bearing, parent_links__parent__supplier__isnull=False)
        .order_by("code")
        .first()
    )
    if fg is None:
        steel = Part.objects.filter(number="ST-52100").first() or bearing
        raw = _lot("DEMO-RAW-STEEL-01", steel, site, 800, supplier=supplier, slc="HEAT-77812", status="released")
        fg = _lot("DEMO-FG-6204-01", bearing, site, 1000, status="released")
        if not LotLink.objects.filter(parent=raw, child=fg).exists():
            LotLink.objects.create(parent=raw, child=fg, quantity=Decimal("120"))
    services.complaint_create(
        site=site, customer=customer, part=bearing, lot=fg, title="Bearing noise at end of line 异响",
        description="3 bearings noisy at the customer's gearbox end-of-line test.", quantity_affected=3,
        response_due_on=timezone.localdate() + datetime.timedelta(days=2), user=qm, customer_reference="8D-REQ-5521",
    )  # fmt: skip
