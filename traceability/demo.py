"""Demo genealogy (idempotent): a bearing plant (steel bar → rings → bearings → two customers) and a
food plant (raw milk / sugar → yoghurt base batches → cartons → retailer), one supplier lot under recall.
Runs after the suppliers' seeder; uses its suppliers when they exist, else lots without a supplier."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.models import Customer, Equipment, Part, Site, User

from .models import (
    Lot,
    LotLink,
    LotStatus,
    Operation,
    OperationStatus,
    ProcessParameter,
    ProductionRecord,
    PublicTraceProfile,
    Shipment,
    WorkOrder,
    WorkOrderStatus,
)

MARKER = "BRG-24001"


def _supplier_for(keywords: tuple[str, ...], site):
    from suppliers.models import Supplier

    qs = Supplier.objects.all().order_by("code")
    for word in keywords:
        found = qs.filter(name__icontains=word).first()
        if found:
            return found
    return None


def seed_traceability() -> None:
    if Lot.objects.filter(code=MARKER).exists():
        return
    sites = {s.code: s for s in Site.objects.filter(code__in=["BRG", "FOOD"])}
    if len(sites) < 2:
        return
    parts = {p.number: p for p in Part.objects.all()}
    customers = {c.code: c for c in Customer.objects.all()}
    equipment = {e.code: e for e in Equipment.objects.all()}
    supervisor = User.objects.filter(username="supervisor").first()
    qm = User.objects.filter(username="qm").first()
    today = timezone.localdate()
    with audit_context(user=supervisor, reason="demo data", source="seed"):
        brg, food = sites["BRG"], sites["FOOD"]
        steel_sup = _supplier_for(("steel", "钢"), brg)
        ball_sup = _supplier_for(("ball", "球", "bearing"), brg)
        milk_sup = _supplier_for(("milk", "dairy", "乳", "牧"), food)
        sugar_sup = _supplier_for(("sugar", "糖"), food)

        def lot(code, part, site, qty, *, supplier=None, slc="", days_ago=10, status=LotStatus.RELEASED, wo=None):
            p = parts[part]
            made = today - datetime.timedelta(days=days_ago)
            return Lot.objects.create(
                code=code,
                part=p,
                site=site,
                supplier=supplier,
                supplier_lot_code=slc if supplier else "",
                work_order=wo,
                quantity=Decimal(qty),
                unit=p.unit,
                received_on=made if supplier or wo is None else None,
                produced_on=made if wo else None,
                expires_on=made + datetime.timedelta(days=p.shelf_life_days) if p.shelf_life_days else None,
                status=status,
                created_by=supervisor,
            )

        def wo(code, site, part, line, ops, days_ago, params):
            started = timezone.now() - datetime.timedelta(days=days_ago, hours=8)
            w = WorkOrder.objects.create(
                code=code,
                site=site,
                part=parts[part],
                line=equipment.get(line),
                status=WorkOrderStatus.COMPLETED,
                started_at=started,
                ended_at=started + datetime.timedelta(hours=6),
                created_by=supervisor,
            )
            first = None
            for i, name in enumerate(ops, start=1):
                op = Operation.objects.create(
                    work_order=w,
                    sequence=i * 10,
                    name=name,
                    status=OperationStatus.DONE,
                    started_at=started + datetime.timedelta(hours=i),
                    ended_at=started + datetime.timedelta(hours=i + 1),
                )
                first = first or op
            rec = ProductionRecord.objects.create(
                work_order=w,
                operation=first,
                shift="A",
                equipment=equipment.get(line),
                started_at=started,
                ended_at=started + datetime.timedelta(hours=6),
                created_by=supervisor,
            )
            if supervisor:
                rec.operators.set([supervisor])
            for name, value, unit, lo, hi in params:
                ProcessParameter.objects.create(
                    record=rec,
                    name=name,
                    value=Decimal(value),
                    unit=unit,
                    lower_limit=Decimal(lo),
                    upper_limit=Decimal(hi),
                )
            return w

        def link(parent, child, qty, w=None):
            LotLink.objects.create(parent=parent, child=child, quantity=Decimal(qty), work_order=w)

        # Bearing plant
        st1 = lot(
            "ST-24001",
            "ST-52100",
            brg,
            "2000",
            supplier=steel_sup,
            slc="HB-2405-117",
            days_ago=30,
            status=LotStatus.CONSUMED,
        )
        st2 = lot("ST-24002", "ST-52100", brg, "2000", supplier=steel_sup, slc="HB-2405-118", days_ago=28)
        bl1 = lot("BL-24001", "BL-6204", brg, "50000", supplier=ball_sup, slc="BX-77812", days_ago=25)
        w_ring = wo(
            "WO-RING-2401",
            brg,
            "RG-6204-IN",
            "GRD-02",
            ["Turning", "Heat treatment", "Grinding"],
            20,
            [
                ("Hardening temperature", "845", "°C", "830", "860"),
                ("Grinding spindle speed", "3000", "rpm", "2800", "3200"),
            ],
        )
        in1 = lot("RG-IN-24001", "RG-6204-IN", brg, "3000", wo=w_ring, days_ago=20)
        in2 = lot("RG-IN-24002", "RG-6204-IN", brg, "3000", wo=w_ring, days_ago=19)
        w_out = wo(
            "WO-RING-2402",
            brg,
            "RG-6204-OUT",
            "GRD-02",
            ["Turning", "Heat treatment", "Grinding"],
            19,
            [("Hardening temperature", "848", "°C", "830", "860")],
        )
        out1 = lot("RG-OUT-24001", "RG-6204-OUT", brg, "6000", wo=w_out, days_ago=19)
        link(st1, in1, "900", w_ring)
        link(st1, in2, "900", w_ring)
        link(st2, out1, "1400", w_out)
        link(st1, out1, "200", w_out)
        w_asm = wo(
            "WO-ASM-2401",
            brg,
            "BRG-6204",
            "LINE-A",
            ["Assembly", "Greasing", "Final check"],
            15,
            [("Grease quantity", "1.2", "g", "1.0", "1.4"), ("Press-fit force", "4.8", "kN", "4.0", "5.5")],
        )
        b1 = lot("BRG-24001", "BRG-6204", brg, "3000", wo=w_asm, days_ago=15)
        b2 = lot("BRG-24002", "BRG-6204", brg, "3000", wo=w_asm, days_ago=14)
        for b, inner in ((b1, in1), (b2, in2)):
            link(inner, b, "3000", w_asm)
            link(out1, b, "3000", w_asm)
            link(bl1, b, "24000", w_asm)
        Shipment.objects.create(
            lot=b1,
            customer=customers["CUST-AUTO1"],
            quantity=Decimal("2000"),
            shipped_on=today - datetime.timedelta(days=10),
            delivery_note="DN-BRG-0001",
        )
        Shipment.objects.create(
            lot=b1,
            customer=customers["CUST-AUTO2"],
            quantity=Decimal("1000"),
            shipped_on=today - datetime.timedelta(days=9),
            delivery_note="DN-BRG-0002",
        )
        Shipment.objects.create(
            lot=b2,
            customer=customers["CUST-AUTO1"],
            quantity=Decimal("1500"),
            shipped_on=today - datetime.timedelta(days=8),
            delivery_note="DN-BRG-0003",
        )
        for x in (b1,):
            x.status = LotStatus.SHIPPED
            x.save(reason="demo data")

        # Food plant
        m1 = lot(
            "MILK-0601",
            "RM-MILK",
            food,
            "10000",
            supplier=milk_sup,
            slc="FARM-A-0601",
            days_ago=2,
            status=LotStatus.CONSUMED,
        )
        m2 = lot(
            "MILK-0602",
            "RM-MILK",
            food,
            "10000",
            supplier=milk_sup,
            slc="FARM-A-0602",
            days_ago=1,
            status=LotStatus.CONSUMED,
        )
        s1 = lot("SUG-0601", "RM-SUGAR", food, "1000", supplier=sugar_sup, slc="SWEET-2406-33", days_ago=40)
        batches = []
        for i, (milk, days) in enumerate(((m1, 2), (m2, 1)), start=1):
            w = wo(
                f"BATCH-060{i}",
                food,
                "SF-MIX",
                "PAST-1",
                ["Mixing", "Pasteurisation", "Fermentation"],
                days,
                [("Pasteurisation temperature", "85", "°C", "83", "88"), ("Holding time", "300", "s", "280", "330")],
            )
            mix = lot(f"MIX-060{i}", "SF-MIX", food, "10500", wo=w, days_ago=days, status=LotStatus.CONSUMED)
            link(milk, mix, "10000", w)
            link(s1, mix, "400", w)
            batches.append((mix, w))
        cartons = []
        for mix, w in batches:
            for suffix in ("A", "B"):
                code = mix.code.replace("MIX", "YOG") + "-" + suffix
                c = lot(code, "FG-YOG-200", food, "25000", wo=w, days_ago=1)
                link(mix, c, "5000", w)
                cartons.append(c)
        Shipment.objects.create(
            lot=cartons[0],
            customer=customers["CUST-RETAIL"],
            quantity=Decimal("20000"),
            shipped_on=today,
            delivery_note="DN-FOOD-0001",
        )
        Shipment.objects.create(
            lot=cartons[2],
            customer=customers["CUST-RETAIL"],
            quantity=Decimal("12000"),
            shipped_on=today,
            delivery_note="DN-FOOD-0002",
        )
        PublicTraceProfile.objects.get_or_create(
            site=food, defaults={"show_origin": True, "public_name": "Shanghai Dairy 上海乳品"}
        )
        PublicTraceProfile.objects.get_or_create(site=brg)
    # Issue consumer QR codes and put one supplier lot under recall through the services.
    from .services import lot_public_enable, recall_start, recall_start_for_supplier_lot

    for c in cartons:
        lot_public_enable(lot=c, user=supervisor)
    reason = "Supplier reported possible foreign matter in sugar lot SWEET-2406-33 / 供应商通报白砂糖批次可能含异物"
    if sugar_sup is not None:
        recall_start_for_supplier_lot(supplier=sugar_sup, supplier_lot_code="SWEET-2406-33", user=qm, reason=reason)
    else:
        recall_start(lot=s1, user=qm, reason=reason)
