"""Demo factory for the quick start: two plants, users for every role, master data.

Demo only: `seed_demo` refuses to run unless QMS_DEMO is on (the default with DEBUG).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from .audit import audit_context
from .models import Customer, Equipment, EquipmentKind, Industry, Membership, Part, PartType, Role, Site, User
from .services import part_cost_apply

DEMO_PASSWORD = "demo-Quality-2026"

# (username, printed name, roles, site codes)
DEMO_USERS = [
    ("qm", "Li Wei (QM)", [Role.QUALITY_MANAGER], ["BRG", "FOOD"]),
    ("qe", "Anna Schmidt (QE)", [Role.QUALITY_ENGINEER], ["BRG", "FOOD"]),
    ("inspector", "Zhang Min (Inspector)", [Role.INSPECTOR], ["BRG", "FOOD"]),
    ("inspector2", "Tom Baker (Inspector)", [Role.INSPECTOR], ["BRG"]),
    ("mrb", "Chen Jie (MRB, engineering)", [Role.MRB_MEMBER], ["BRG", "FOOD"]),
    ("sqe", "Maria Rossi (SQE)", [Role.SUPPLIER_QUALITY_ENGINEER], ["BRG", "FOOD"]),
    ("supervisor", "Wang Fang (Production)", [Role.PRODUCTION_SUPERVISOR], ["BRG", "FOOD"]),
    ("auditor", "Grace Hopper (Auditor)", [Role.AUDITOR], ["BRG", "FOOD"]),
    ("admin", "Site Administrator", [Role.ADMINISTRATOR], ["BRG", "FOOD"]),
    ("food_qm", "Liu Yang (Food QM)", [Role.QUALITY_MANAGER], ["FOOD"]),
]
DEMO_LOGINS = [
    (u, name, ", ".join(str(r.label) for r in roles), " ".join(sites)) for u, name, roles, sites in DEMO_USERS
]


def seed_core() -> None:
    with audit_context(reason="demo data", source="seed"):
        brg, _ = Site.objects.get_or_create(
            code="BRG",
            defaults={
                "name": "Suzhou Bearing Plant 苏州轴承厂",
                "industry": Industry.AUTOMOTIVE,
                "timezone": "Asia/Shanghai",
                "address": "88 Xinghu Street, Suzhou Industrial Park, Jiangsu 215000, China",
                "contact_name": "Zhang Wei (Quality Manager)",
                "contact_phone": "+86 512 0000 0000",
                "contact_email": "quality.brg@demo.invalid",
            },
        )
        food, _ = Site.objects.get_or_create(
            code="FOOD",
            defaults={
                "name": "Shanghai Dairy Plant 上海乳品厂",
                "industry": Industry.FOOD,
                "timezone": "Asia/Shanghai",
                "address": "1 Dairy Road, Minhang District, Shanghai 201100, China",
                "contact_name": "Liu Yang (Quality Manager)",
                "contact_phone": "+86 21 0000 0000",
                "contact_email": "quality.food@demo.invalid",
            },
        )
        sites = {"BRG": brg, "FOOD": food}
        for username, name, roles, site_codes in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    display_name=name,
                    email=f"{username}@demo.invalid",
                    is_staff=username == "admin",
                    is_superuser=username == "admin",
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
            for role in roles:
                for code in site_codes:
                    Membership.objects.get_or_create(user=user, site=sites[code], role=role)
        # number, name, type, unit, shelf life (days), standard cost per unit (QMS_CURRENCY; None: not known)
        parts = [
            ("ST-52100", "Bearing steel bar GCr15 轴承钢棒", PartType.RAW, "kg", None, "12.50"),
            ("RG-6204-IN", "Inner ring 6204 内圈", PartType.COMPONENT, "pcs", None, "3.20"),
            ("RG-6204-OUT", "Outer ring 6204 外圈", PartType.COMPONENT, "pcs", None, "3.80"),
            ("BL-6204", "Steel ball 7.938 mm 钢球", PartType.COMPONENT, "pcs", None, "0.15"),
            ("BRG-6204", "Deep groove ball bearing 6204 深沟球轴承", PartType.FINISHED, "pcs", None, "8.50"),
            ("RM-MILK", "Raw milk 生牛乳", PartType.RAW, "kg", 3, "4.20"),
            ("RM-SUGAR", "White sugar 白砂糖", PartType.RAW, "kg", 720, "6.80"),
            ("SF-MIX", "Yoghurt base batch 酸奶基料", PartType.SEMI_FINISHED, "kg", 2, None),
            ("FG-YOG-200", "Yoghurt carton 200 g 酸奶 200克", PartType.FINISHED, "pcs", 21, "2.60"),
        ]
        cost_since = timezone.now() - datetime.timedelta(days=730)
        for number, name, ptype, unit, shelf, cost in parts:
            part, _ = Part.objects.get_or_create(
                number=number,
                revision="A",
                defaults={
                    "name": name,
                    "part_type": ptype,
                    "unit": unit,
                    "shelf_life_days": shelf,
                    "is_safety_critical": number.startswith("BRG"),
                    "is_regulated": number.startswith(("RM", "FG")),
                },
            )
            if cost is not None and not part.costs.exists():
                part_cost_apply(
                    part=part, value=Decimal(cost), user=None, reason="demo standard cost", valid_from=cost_since
                )
        for code, name, country, lang, auto in [
            ("CUST-AUTO1", "Shanghai Auto Gearbox Co. 上海变速箱", "CN", "zh-hans", True),
            ("CUST-AUTO2", "Bavaria Drive Systems GmbH", "DE", "en", True),
            ("CUST-RETAIL", "Fresh Mart Supermarkets 鲜超市", "CN", "zh-hans", False),
        ]:
            Customer.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "country": country,
                    "language": lang,
                    "is_automotive": auto,
                    "email": f"quality@{code.lower()}.invalid",
                },
            )
        today = timezone.localdate()
        for code, name, kind, site, due in [
            (
                "CMM-01",
                "Coordinate measuring machine 三坐标",
                EquipmentKind.GAUGE,
                brg,
                today + datetime.timedelta(days=120),
            ),
            ("BG-10", "Bore gauge 10 mm 内径量表", EquipmentKind.GAUGE, brg, today + datetime.timedelta(days=10)),
            ("MIC-03", "Micrometer 0-25 mm 千分尺", EquipmentKind.GAUGE, brg, today - datetime.timedelta(days=5)),
            ("GRD-02", "Grinding machine 磨床", EquipmentKind.MACHINE, brg, None),
            ("LINE-A", "Bearing assembly line A 装配线A", EquipmentKind.LINE, brg, None),
            ("PH-01", "pH meter pH计", EquipmentKind.GAUGE, food, today + datetime.timedelta(days=60)),
            ("PAST-1", "Pasteuriser 巴氏杀菌机", EquipmentKind.MACHINE, food, None),
            ("LINE-F1", "Filling line 1 灌装线1", EquipmentKind.LINE, food, None),
        ]:
            Equipment.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "site": site, "calibration_due": due}
            )
