"""Demo inspection data (idempotent, order 300, after suppliers and traceability): approved plans for the
demo parts, stations, an IQC history (received from an approved supplier through the supplier gate) that
switches the supplier to tightened, a pending IQC on tightened
for the tablet, an IPQC schedule with one overdue check, a failed FAI blocking a run, and finished
lots released with a Certificate of Analysis."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from compliance.signatures import SignatureCredential
from qms.core.audit import audit_context
from qms.core.models import Equipment, Part, Site, User

from . import services
from .models import InspectionPlan, IpqcSchedule, Kind, Stage, Station

MARKER_TITLE = "Inner ring 6204 incoming inspection"


def _cred(user):
    # The seeder signs on behalf of demo users (no password prompt in a management command).
    return SignatureCredential(user=user, authenticated_at=timezone.now())


def _plan(site, part, stage, title, author, approver, chars, **kw):
    plan = services.plan_create(site=site, part=part, stage=stage, title=title, user=author, **kw)
    for c in chars:
        services.characteristic_add(plan=plan, user=author, **c)
    return services.plan_approve(plan=plan, user=approver, credential=_cred(approver), reason="demo plan")


def _fill(insp, user, bad_samples=(), bad_char=0):
    """Record every value of an inspection; samples in bad_samples get one value out of limits."""
    chars = list(insp.plan.characteristics.all())
    values = []
    for n in range(1, insp.sample_size + 1):
        for i, c in enumerate(chars):
            if c.kind == Kind.VARIABLE:
                if c.nominal is not None:
                    mid = c.nominal
                elif c.lower_limit is not None and c.upper_limit is not None:
                    mid = (c.lower_limit + c.upper_limit) / 2
                else:
                    mid = (c.upper_limit or c.lower_limit or Decimal(0)) / 2
                raw = str(
                    mid + (c.upper_limit - mid) * 3
                    if (n in bad_samples and i == bad_char and c.upper_limit is not None)
                    else mid
                )
            elif c.kind == Kind.ATTRIBUTE:
                raw = "fail" if (n in bad_samples and i == bad_char) else "pass"
            elif c.kind == Kind.COUNT:
                raw = "3" if (n in bad_samples and i == bad_char) else "0"
            else:
                raw = "ok"
            values.append({"characteristic": c.pk, "sample_no": n, "raw": raw})
    services.measurements_record(inspection=insp, values=values, submission_key=uuid.uuid4(), user=user)


def _approved_supplier_for(part, site, sqe):
    """A supplier the supplier gate lets deliver `part` to `site`, through suppliers' public services only:
    one already approved for the part, else the first approved supplier in good standing (its current
    parts pass the gate) with the part added to its approved supplier list. None when there is none."""
    from suppliers.models import AslEntry, AslStatus, Supplier, SupplierStatus
    from suppliers.services import asl_approve, asl_entry_create, supplier_can_supply

    approved = list(Supplier.objects.filter(sites=site, status=SupplierStatus.APPROVED).order_by("code"))
    for sup in approved:
        if supplier_can_supply(supplier=sup, part=part).ok:
            return sup
    for sup in approved:
        listed = [e for e in AslEntry.objects.filter(supplier=sup).select_related("part") if e.part_id != part.pk]
        if not listed or not all(supplier_can_supply(supplier=sup, part=e.part).ok for e in listed):
            continue  # e.g. an expired certificate: not a supplier to add parts to
        entry = AslEntry.objects.filter(supplier=sup, part=part).first() or asl_entry_create(
            supplier=sup, part=part, user=sqe
        )
        if entry.status == AslStatus.PENDING:
            asl_approve(
                entry=entry,
                user=sqe,
                credential=_cred(sqe),
                reason="Qualified for the demo plant / 演示资格确认",
                evidence="Initial samples and first article report FA-DEMO-" + part.number,
            )
        if supplier_can_supply(supplier=sup, part=part).ok:
            return sup
    return None


def seed_inspection() -> None:
    if InspectionPlan.objects.filter(title=MARKER_TITLE).exists():
        return
    sites = {s.code: s for s in Site.objects.filter(code__in=["BRG", "FOOD"])}
    if len(sites) < 2:
        return
    from traceability.models import Lot, WorkOrder, WorkOrderStatus

    users = {
        u.username: u
        for u in User.objects.filter(username__in=["qm", "qe", "inspector", "inspector2", "food_qm", "supervisor"])
    }
    parts = {p.number: p for p in Part.objects.all()}
    eq = {e.code: e for e in Equipment.objects.all()}
    qm, qe, insp1 = users.get("qm"), users.get("qe"), users.get("inspector")
    if not (qm and qe and insp1):
        return
    brg, food = sites["BRG"], sites["FOOD"]
    food_qm = users.get("food_qm") or qm
    now = timezone.now()
    with audit_context(user=qe, reason="demo data", source="seed"):
        st_iqc = Station.objects.create(site=brg, code="BRG-IQC", name="Receiving inspection 来料检验台", stages="IQC")
        st_line = Station.objects.create(
            site=brg, code="BRG-LINE-A", name="Line A patrol 装配线A巡检", stages="FAI,IPQC,FQC", line=eq.get("LINE-A")
        )
        st_lab = Station.objects.create(site=food, code="FOOD-LAB", name="QC laboratory 化验室", stages="IQC,FQC")
        for st in (st_iqc, st_line):
            st.inspectors.set([u for u in (users.get("inspector"), users.get("inspector2")) if u])
        st_lab.inspectors.set([u for u in (users.get("inspector2"),) if u])

        ring_iqc = _plan(
            brg,
            parts["RG-6204-IN"],
            Stage.IQC,
            MARKER_TITLE,
            qe,
            qm,
            [
                {
                    "name": "Bore diameter 内径",
                    "nominal": "10",
                    "tolerance": "0.02",
                    "unit": "mm",
                    "decimals": 3,
                    "special": "CC",
                    "gauge": eq.get("BG-10"),
                    "defect_class": "major",
                },
                {
                    "name": "Width 宽度",
                    "nominal": "12",
                    "tolerance": "0.05",
                    "unit": "mm",
                    "decimals": 2,
                    "gauge": eq.get("MIC-03"),
                    "defect_class": "minor",
                },
                {
                    "name": "Surface cracks 表面裂纹",
                    "kind": Kind.ATTRIBUTE,
                    "defect_class": "critical",
                    "method": "visual 目视",
                },
            ],
            scheme="iso2859",
            aql="1.0",
        )
        ball_iqc = _plan(
            brg,
            parts["BL-6204"],
            Stage.IQC,
            "Steel ball incoming inspection",
            qe,
            qm,
            [
                {
                    "name": "Ball diameter 钢球直径",
                    "nominal": "7.938",
                    "tolerance": "0.002",
                    "unit": "mm",
                    "decimals": 4,
                    "special": "SC",
                    "gauge": eq.get("BG-10"),
                },
                {"name": "Surface defects 表面缺陷", "kind": Kind.ATTRIBUTE, "method": "visual 目视"},
            ],
            scheme="iso2859",
            aql="0.65",
        )
        _plan(
            brg,
            parts["ST-52100"],
            Stage.IQC,
            "Bearing steel incoming inspection",
            qe,
            qm,
            [
                {"name": "Hardness HRC 硬度", "lower_limit": "60", "upper_limit": "64", "unit": "HRC", "decimals": 1},
            ],
            scheme="fixed",
            fixed_sample_size=3,
            aql="",
        )
        _plan(
            brg,
            parts["BRG-6204"],
            Stage.FAI,
            "Bearing 6204 first article",
            qe,
            qm,
            [
                {
                    "name": "Radial clearance 径向游隙",
                    "lower_limit": "0.006",
                    "upper_limit": "0.020",
                    "unit": "mm",
                    "decimals": 3,
                    "special": "CC",
                    "gauge": eq.get("BG-10"),
                },
                {"name": "Noise test 噪音测试", "kind": Kind.ATTRIBUTE},
            ],
            scheme="fixed",
            fixed_sample_size=1,
            aql="",
        )
        ipqc = _plan(
            brg,
            parts["BRG-6204"],
            Stage.IPQC,
            "Bearing 6204 patrol check",
            qe,
            qm,
            [
                {
                    "name": "Radial clearance 径向游隙",
                    "lower_limit": "0.006",
                    "upper_limit": "0.020",
                    "unit": "mm",
                    "decimals": 3,
                    "gauge": eq.get("BG-10"),
                },
            ],
            scheme="fixed",
            fixed_sample_size=5,
            aql="",
            operation_name="Assembly",
        )
        fqc = _plan(
            brg,
            parts["BRG-6204"],
            Stage.FQC,
            "Bearing 6204 final inspection",
            qe,
            qm,
            [
                {
                    "name": "Radial clearance 径向游隙",
                    "lower_limit": "0.006",
                    "upper_limit": "0.020",
                    "unit": "mm",
                    "decimals": 3,
                    "gauge": eq.get("BG-10"),
                },
                {"name": "Rotation / noise 旋转噪音", "kind": Kind.ATTRIBUTE},
            ],
            scheme="class",
            aql_critical="",
            aql_major="0.65",
            aql_minor="2.5",
        )
        _plan(
            food,
            parts["RM-MILK"],
            Stage.IQC,
            "Raw milk incoming test 生牛乳进厂检验",
            qe,
            food_qm,
            [
                {
                    "name": "Pesticide residue (chlorpyrifos) 农药残留（毒死蜱）",
                    "upper_limit": "0.01",
                    "unit": "mg/kg",
                    "decimals": 3,
                    "is_lab_test": True,
                    "method": "GB 2763 LC-MS/MS",
                    "defect_class": "critical",
                },
                {"name": "pH", "lower_limit": "6.5", "upper_limit": "6.8", "decimals": 2, "gauge": eq.get("PH-01")},
            ],
            scheme="fixed",
            fixed_sample_size=1,
            aql="",
        )
        yog_fqc = _plan(
            food,
            parts["FG-YOG-200"],
            Stage.FQC,
            "Yoghurt release test 酸奶出厂检验",
            qe,
            food_qm,
            [
                {"name": "pH", "lower_limit": "4.0", "upper_limit": "4.6", "decimals": 2, "gauge": eq.get("PH-01")},
                {
                    "name": "Coliforms 大肠菌群",
                    "kind": Kind.COUNT,
                    "upper_limit": "0",
                    "unit": "CFU/g",
                    "is_lab_test": True,
                },
            ],
            scheme="fixed",
            fixed_sample_size=2,
            aql="",
        )

    # IQC history: the ball supplier is switched to tightened (2 of 4 lots rejected). Lots are received
    # through traceability's receipt service, so the supplier gate (approved supplier, part on the ASL)
    # is asked exactly as in real use.
    from traceability.services import lot_receive

    sqe = User.objects.filter(username="sqe").first() or qm
    ball_sup = _approved_supplier_for(parts["BL-6204"], brg, sqe)
    ring_sup = _approved_supplier_for(parts["RG-6204-IN"], brg, sqe)
    if ball_sup is not None and ring_sup is not None:
        with audit_context(user=insp1, reason="demo IQC history", source="seed"):
            for i, bad in enumerate([(), (1, 2, 3), (), (1, 2)], start=1):
                lot = lot_receive(
                    code=f"BL-IQC-{i:03d}",
                    part=parts["BL-6204"],
                    site=brg,
                    supplier=ball_sup,
                    supplier_lot_code=f"SB-24{i:02d}",
                    quantity=Decimal(1000),
                    received_on=timezone.localdate() - datetime.timedelta(days=20 - i * 3),
                    user=insp1,
                )
                insp = services.iqc_create_for_lot(lot=lot)
                _fill(insp, insp1, bad_samples=bad)
                services.inspection_complete(inspection=insp, user=insp1, credential=_cred(insp1), reason="demo")
            lot = lot_receive(
                code="BL-IQC-005",
                part=parts["BL-6204"],
                site=brg,
                supplier=ball_sup,
                supplier_lot_code="SB-2405",
                quantity=Decimal(1000),
                user=insp1,
            )
            services.iqc_create_for_lot(lot=lot)  # pending, on tightened: the tablet demo
            ring = lot_receive(
                code="RG-IQC-001",
                part=parts["RG-6204-IN"],
                site=brg,
                supplier=ring_sup,
                supplier_lot_code="RG-2406-01",
                quantity=Decimal(500),
                user=insp1,
            )
            services.iqc_create_for_lot(lot=ring)

    with audit_context(user=users.get("supervisor") or qm, reason="demo data", source="seed"):
        # IPQC: schedule every 2 hours, 5 pieces; the earlier check done, the latest overdue
        sched = IpqcSchedule.objects.create(
            site=brg,
            plan=ipqc,
            line=eq["LINE-A"],
            operation_name="Assembly",
            station=st_line,
            every_minutes=120,
            pieces=5,
            grace_minutes=15,
            next_due_at=now - datetime.timedelta(minutes=150),
        )
        services.ipqc_due_run(now=now)
        first = sched.inspections.order_by("due_at").first()
        if first:
            _fill(first, insp1)
            services.inspection_complete(inspection=first, user=insp1, credential=_cred(insp1), reason="demo")

        # A failed FAI blocks a run
        wo = WorkOrder.objects.create(
            code="WO-FAI-DEMO",
            site=brg,
            part=parts["BRG-6204"],
            line=eq.get("LINE-A"),
            status=WorkOrderStatus.SETUP,
            quantity_planned=Decimal(2000),
            created_by=users.get("supervisor"),
        )
        fai_insp = services.inspection_create_fai(work_order=wo, user=insp1)
        _fill(fai_insp, insp1, bad_samples=(1,))
        services.inspection_complete(inspection=fai_insp, user=insp1, credential=_cred(insp1), reason="demo")

    # Finished lots released with a CoA (FQC by the inspector, release signed by the quality manager)
    for site, part, code, plan, releaser in (
        (brg, parts["BRG-6204"], "BRG-FQC-001", fqc, qm),
        (food, parts["FG-YOG-200"], "YOG-FQC-001", yog_fqc, food_qm),
    ):
        with audit_context(user=insp1, reason="demo FQC", source="seed"):
            lot = Lot.objects.create(
                code=code,
                part=part,
                site=site,
                quantity=Decimal(800),
                unit=part.unit,
                produced_on=timezone.localdate(),
                created_by=insp1,
            )
            insp = services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=insp1, reason="demo")
            _fill(insp, insp1)
            services.inspection_complete(inspection=insp, user=insp1, credential=_cred(insp1), reason="demo")
        services.lot_release_sign(lot=lot, user=releaser, credential=_cred(releaser), reason="demo release")
    _ = ring_iqc, ball_iqc


def seed_history_import() -> None:
    """Two lots released in the plant's previous system, imported as released (history import) and
    e-signed by the quality manager, as `import_data lots --released-as-history --signer qm` does."""
    from qms.core.importing import import_file
    from traceability.models import Lot

    if Lot._base_manager.filter(code="HIST-1").exists():
        return
    qm = User.objects.filter(username="qm").first()
    brg = Site.objects.filter(code="BRG").first()
    sample = Lot.objects.filter(site=brg).select_related("part").order_by("pk").first() if brg else None
    if qm is None or sample is None:
        return
    number = sample.part.number
    text = "code,part_number,quantity,site,status\n" + "".join(
        f"HIST-{i},{number},{qty},BRG,released\n" for i, qty in ((1, 500), (2, 750))
    )
    report = import_file(
        kind="lots",
        filename="previous-system-lots.csv",
        content=text.encode(),
        user=qm,
        options={"release_as_history": True, "credential": _cred(qm)},
    )
    if not report.ok:
        raise RuntimeError(f"demo history import failed: {report.errors}")


def seed_plan_documents() -> None:
    """Point the demo's FQC plans at the controlled documents they implement (the documents demo made them)."""
    from documents.models import Document

    qe = User.objects.filter(username="qe").first()
    for site_code, number in (("BRG", "BRG-WI-0001"), ("FOOD", "FOOD-SOP-0001")):
        doc = Document.objects.filter(site__code=site_code, number=number).first()
        plan = InspectionPlan.objects.filter(site__code=site_code, stage=Stage.FQC, document__isnull=True).first()
        if doc is None or plan is None or qe is None:
            continue
        services.plan_document_link(plan=plan, document=doc, user=qe, reason="demo data")
