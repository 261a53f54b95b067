"""Demo data (quick start only): controlled documents with versions at both plants, training (one
overdue), the BRG training gate in warn mode on lot release. Idempotent; runs before the domain seeders so
their signatures meet the gate."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Role, Site, User


def _pdf(title: str, body: str) -> bytes:
    from weasyprint import HTML

    html = f"<html><body style='font-family: sans-serif'><h1>{title}</h1><p>{body}</p></body></html>"
    return HTML(string=html).write_pdf()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _cred(user):
    from compliance.signatures import signature_authenticate

    return signature_authenticate(user=user, password=DEMO_PASSWORD)


def _release(version, *, author, reviewer, approver, at=None):
    """Take a draft through review and approval; effective now, or at `at` (history)."""
    from . import services

    today = timezone.localdate()
    services.version_submit(version=version, user=author, reviewers=[reviewer])
    services.version_review(version=version, user=reviewer, credential=_cred(reviewer))
    services.version_approve(
        version=version,
        user=approver,
        credential=_cred(approver),
        effective_from=today if at is None else today + datetime.timedelta(days=1),
        reason="demo approval",
    )
    if at is not None:
        services.version_effective_apply(version=version, at=at)
    version.refresh_from_db()
    return version


def seed_demo() -> None:
    from qms.core.importing import import_file

    from . import services
    from .models import Document, GateMode

    brg, food = Site.objects.filter(code="BRG").first(), Site.objects.filter(code="FOOD").first()
    users = {
        u.username: u for u in User.objects.filter(username__in=["qm", "qe", "supervisor", "food_qm", "inspector2"])
    }
    if brg is None or food is None or len(users) < 5 or Document._base_manager.filter(site=brg).exists():
        return
    qm, qe, sup, food_qm = users["qm"], users["qe"], users["supervisor"], users["food_qm"]
    now = timezone.now()
    day = datetime.timedelta(days=1)
    with audit_context(user=qm, reason="demo data", source="seed"):
        # BRG: the lot-release SOP, two versions, the second in force for 30 days.
        sop = services.document_create(
            site=brg, doc_type="sop", title="Lot release and QA disposition 批次放行与质量处置", owner=qm, user=qm,
            review_period_months=24, training_roles=[Role.QUALITY_MANAGER, Role.QUALITY_ENGINEER],
            distribution_roles=[Role.QUALITY_MANAGER, Role.QUALITY_ENGINEER, Role.MRB_MEMBER, Role.AUDITOR],
        )  # fmt: skip
        v1 = services.version_create(
            document=sop, user=qe, change_summary="First issue.",
            upload=_upload("sop-release-v1.pdf", _pdf("BRG-SOP-0001 v1", "Release needs every inspection passed.")),
        )  # fmt: skip
        _release(v1, author=qe, reviewer=sup, approver=qm, at=now - 400 * day)
        v2 = services.version_create(
            document=sop, user=qe, change_summary="Rejections settled by a signed MRB decision may be released.",
            upload=_upload("sop-release-v2.pdf", _pdf("BRG-SOP-0001 v2", "MRB-settled rejections may be released.")),
        )  # fmt: skip
        _release(v2, author=qe, reviewer=sup, approver=qm, at=now - 30 * day)
        # BRG: a work instruction for inspectors (one of them overdue), a specification in review.
        wi = services.document_create(
            site=brg, doc_type="wi", title="Bearing noise test 轴承噪声测试", owner=qe, user=qm,
            training_roles=[Role.INSPECTOR], distribution_roles=[Role.INSPECTOR, Role.QUALITY_ENGINEER],
        )  # fmt: skip
        wi1 = services.version_create(
            document=wi, user=qe, change_summary="First issue.",
            upload=_upload("wi-noise.pdf", _pdf("BRG-WI-0001", "Run the noise tester at 1800 rpm for 10 s.")),
        )  # fmt: skip
        _release(wi1, author=qe, reviewer=sup, approver=qm, at=now - 20 * day)
        spec = services.document_create(
            site=brg, doc_type="spec", title="Deep groove ball bearing 6204 深沟球轴承规格", owner=qe, user=qm
        )
        spec1 = services.version_create(
            document=spec, user=qe, change_summary="First issue for review.",
            upload=_upload("spec-6204.pdf", _pdf("BRG-SPEC-0001", "Bore 20 mm h5, OD 47 mm, width 14 mm.")),
        )  # fmt: skip
        services.version_submit(version=spec1, user=qe, reviewers=[sup])
        manual = services.document_create(
            site=brg, doc_type="manual", title="Quality manual 质量手册", owner=qm, user=qm, review_period_months=12
        )
        m1 = services.version_create(
            document=manual, user=qe, change_summary="IATF 16949 edition.",
            upload=_upload("manual.pdf", _pdf("BRG-QM-0001", "Scope, policy, processes.")),
        )  # fmt: skip
        _release(m1, author=qe, reviewer=sup, approver=qm, at=now - 380 * day)  # periodic review overdue
        # FOOD: the pasteurisation CCP procedure.
        ccp = services.document_create(
            site=food, doc_type="sop", title="Pasteurisation CCP monitoring 巴氏杀菌关键控制点监控", owner=food_qm,
            user=food_qm, training_roles=[Role.INSPECTOR, Role.PRODUCTION_SUPERVISOR],
        )  # fmt: skip
        c1 = services.version_create(
            document=ccp, user=qe, change_summary="First issue (HACCP plan 2026).",
            upload=_upload("ccp.pdf", _pdf("FOOD-SOP-0001", "72 °C for 15 s; record every batch.")),
        )  # fmt: skip
        _release(c1, author=qe, reviewer=sup, approver=food_qm)
        # Training: history imported, one read-and-understood signed today, the rest stays open.
        csv = (
            "site,user,document,version,trained_on,method,trainer,assessment\n"
            f"BRG,qm,BRG-SOP-0001,1,{(now - 395 * day).date()},imported,,\n"
            f"BRG,qe,BRG-SOP-0001,1,{(now - 390 * day).date()},instructor,qm,passed\n"
            f"BRG,qm,BRG-SOP-0001,2,{(now - 29 * day).date()},imported,,\n"
        )
        import_file(kind="training_records", filename="demo-training.csv", content=csv.encode(), user=qm)
        task = services.TrainingTask.objects.filter(user=users["inspector2"], version=wi1, status="open").first()
        if task is not None:
            services.training_acknowledge(task=task, user=users["inspector2"], credential=_cred(users["inspector2"]))
        services.site_setting_save(
            site=brg, user=qm, gate_mode=GateMode.WARN, review_reminder_days=30,
            rules={"lot.release": sop}, reason="demo: lot release needs the release SOP",
        )  # fmt: skip
