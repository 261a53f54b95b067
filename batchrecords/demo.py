"""Demo data (quick start only). The demo has no pharma (GMP) plant, so the batch records go where they
fit: FOOD makes yoghurt base in batches (master batch record approved, one batch executed with a
pasteurisation temperature out of limits, its deviation assessed as major with a CAPA, awaiting QA
approval, the batch completed and waiting for the review by exception), and BRG has an inner-ring master
batch record with one batch in progress and a minor deviation raised by hand. Idempotent."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Part, Site, User

MARKER = "demo"


def _material_lot(code, part, site, qty):
    from traceability.models import Lot

    lot = Lot.objects.filter(code=code).first()
    if lot is None:
        lot = Lot.objects.create(
            code=code,
            part=part,
            site=site,
            quantity=Decimal(qty),
            unit=part.unit,
            status="released",
            received_on=timezone.localdate(),
        )
    return lot


def seed_demo() -> None:
    from compliance.signatures import signature_authenticate
    from traceability.services import work_order_advance, work_order_create

    from . import services
    from .models import LotImpact, MasterBatchRecord

    sites = {s.code: s for s in Site.objects.filter(code__in=["BRG", "FOOD"])}
    users = {
        u.username: u for u in User.objects.filter(username__in=["qm", "qe", "supervisor", "inspector", "inspector2"])
    }
    parts = {
        p.number: p for p in Part.objects.filter(number__in=["SF-MIX", "RM-MILK", "RM-SUGAR", "RG-6204-IN", "ST-52100"])
    }
    if len(sites) < 2 or len(users) < 5 or len(parts) < 5:
        return
    if MasterBatchRecord.objects.filter(notes__startswith=MARKER).exists():
        return
    qm, qe, sup, insp, insp2 = (users[n] for n in ("qm", "qe", "supervisor", "inspector", "inspector2"))
    food, brg = sites["FOOD"], sites["BRG"]

    def cred(user):
        return signature_authenticate(user=user, password=DEMO_PASSWORD)

    with transaction.atomic(), audit_context(user=qe, reason="demo data", source="seed"):
        # FOOD: yoghurt base, 1000 kg
        mix = services.mbr_create(
            site=food, part=parts["SF-MIX"], title="Yoghurt base batch 酸奶基料批生产", theoretical_yield="1000",
            unit="kg", yield_min_percent="96", yield_max_percent="101", notes=f"{MARKER}: yoghurt base 1000 kg",
            user=qe,
        )  # fmt: skip
        s1 = services.mbr_step_add(
            mbr=mix, title="Standardise and mix 标准化与配料", instructions="Charge milk, add sugar, mix 15 min.",
            user=qe,
        )  # fmt: skip
        s2 = services.mbr_step_add(
            mbr=mix, title="Pasteurise 巴氏杀菌", is_critical=True,
            instructions="Heat to 90–95 °C and hold 300–420 s. Second person checks the chart recorder.", user=qe,
        )  # fmt: skip
        s3 = services.mbr_step_add(
            mbr=mix, title="Cool and inoculate 冷却接种", instructions="Cool to 42 °C, add culture.", user=qe
        )
        services.mbr_parameter_add(step=s1, name="Mixing time 搅拌时间", unit="min", lower_limit="15", user=qe)
        services.mbr_parameter_add(
            step=s2, name="Pasteurisation temperature 杀菌温度", unit="°C", lower_limit="90", upper_limit="95", user=qe
        )
        services.mbr_parameter_add(
            step=s2, name="Holding time 保温时间", unit="s", lower_limit="300", upper_limit="420", user=qe
        )
        services.mbr_parameter_add(
            step=s3, name="pH after inoculation 接种后pH", kind="ipc", lower_limit="6.4", upper_limit="6.8", user=qe
        )
        services.mbr_material_add(
            mbr=mix, part=parts["RM-MILK"], quantity="950", tolerance_percent="1", step=s1, user=qe
        )
        services.mbr_material_add(
            mbr=mix, part=parts["RM-SUGAR"], quantity="50", tolerance_percent="2", step=s1, user=qe
        )
        mix = services.mbr_approve(mbr=mix, user=qm, credential=cred(qm), reason="demo approval")
        milk = _material_lot("DEMO-MILK-0701", parts["RM-MILK"], food, "2000")
        sugar = _material_lot("DEMO-SUG-0701", parts["RM-SUGAR"], food, "200")
        wo = work_order_create(site=food, part=parts["SF-MIX"], code="BATCH-0701", quantity_planned=1000, user=sup)
        wo = work_order_advance(work_order=wo, step="run", user=sup)
        ebr = services.ebr_create(work_order=wo, lot_code="MIX-0701", user=sup)
        material = {m.part.number: m for m in ebr.mbr.materials.select_related("part")}
        services.ebr_dispense(ebr=ebr, material=material["RM-MILK"], lot_code=milk.code, quantity="950", user=sup)
        services.ebr_dispense(ebr=ebr, material=material["RM-SUGAR"], lot_code=sugar.code, quantity="50.5", user=sup)
        params = {p.name.split(" ")[0]: p.pk for p in ebr.mbr.parameters.all()}
        steps = list(ebr.steps.order_by("sequence"))
        services.ebr_step_perform(step=steps[0], user=sup, credential=cred(sup), values={params["Mixing"]: "16"})
        services.ebr_step_perform(
            step=steps[1], user=sup, credential=cred(sup),
            values={params["Pasteurisation"]: "88.5", params["Holding"]: "360"},
            comment="Steam valve slow to open 蒸汽阀开启缓慢",
        )  # fmt: skip
        services.ebr_step_verify(step=steps[1], user=insp, credential=cred(insp), reason="chart checked")
        services.ebr_step_perform(step=steps[2], user=sup, credential=cred(sup), values={params["pH"]: "6.6"})
        services.ebr_yield_record(ebr=ebr, actual_yield="985", user=sup)
        ebr = services.ebr_complete(ebr=ebr, user=sup)
        dev = ebr.deviations.get()
        rows = {row.pk: (LotImpact.AFFECTED, "under-pasteurised 1.5 °C") for row in dev.affected_lots.all()}
        dev = services.deviation_assess(
            deviation=dev, user=qe, classification="major",
            impact_assessment="Temperature 1.5 °C below the lower limit for 4 min; microbiology of the batch to be "
            "confirmed before release. 杀菌温度低于下限1.5 °C，放行前需确认微生物检验结果。",
            root_cause="Steam valve actuator slow 蒸汽阀执行器响应慢", lot_impacts=rows,
        )  # fmt: skip
        services.deviation_capa_open(deviation=dev, owner=qe, user=qe, title="Pasteuriser steam valve response")

        # BRG: inner ring batch, in progress; a minor deviation raised by hand.
        ring = services.mbr_create(
            site=brg, part=parts["RG-6204-IN"], title="Inner ring 6204 heat-treatment batch 内圈热处理批",
            theoretical_yield="3000", unit="pcs", yield_min_percent="98", yield_max_percent="100",
            notes=f"{MARKER}: inner ring batch", user=qe,
        )  # fmt: skip
        r1 = services.mbr_step_add(mbr=ring, title="Turning 车削", instructions="Turn to drawing RG-6204-IN.", user=qe)
        r2 = services.mbr_step_add(
            mbr=ring, title="Hardening 淬火", is_critical=True, instructions="Austenitise 840 °C, quench in oil.",
            user=qe,
        )  # fmt: skip
        services.mbr_parameter_add(step=r1, name="Spindle speed 主轴转速", unit="rpm", upper_limit="2500", user=qe)
        services.mbr_parameter_add(
            step=r2, name="Furnace temperature 炉温", unit="°C", lower_limit="830", upper_limit="850", user=qe
        )
        services.mbr_parameter_add(
            step=r2, name="Hardness 硬度", kind="ipc", unit="HRC", lower_limit="60", upper_limit="64", user=qe
        )
        services.mbr_material_add(
            mbr=ring, part=parts["ST-52100"], quantity="450", tolerance_percent="3", step=r1, user=qe
        )
        ring = services.mbr_approve(mbr=ring, user=qm, credential=cred(qm), reason="demo approval")
        steel = _material_lot("DEMO-ST-0701", parts["ST-52100"], brg, "1000")
        wo2 = work_order_create(
            site=brg, part=parts["RG-6204-IN"], code="WO-RING-0701", quantity_planned=3000, user=sup
        )
        wo2 = work_order_advance(work_order=wo2, step="run", user=sup)
        ebr2 = services.ebr_create(work_order=wo2, lot_code="RG-IN-0701", user=sup)
        services.ebr_dispense(
            ebr=ebr2, material=ebr2.mbr.materials.get(), lot_code=steel.code, quantity="452", user=insp2
        )
        p2 = {p.name.split(" ")[0]: p.pk for p in ebr2.mbr.parameters.all()}
        services.ebr_step_perform(
            step=ebr2.steps.order_by("sequence").first(), user=sup, credential=cred(sup), values={p2["Spindle"]: "2200"}
        )
        services.deviation_raise(
            site=brg, title="Work instruction revision not posted at the furnace 炉旁作业指导书版本未更新",
            description="Rev B on the wall, rev C issued.", classification="minor", ebr=ebr2,
            lots=[ebr2.lot], user=insp2,
        )  # fmt: skip
