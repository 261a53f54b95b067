"""Demo suppliers for the quick start: every status and grade, 12 months of receipts so the scorecards
are real, a certificate expiring next week, one expired (its approval suspended), a PPAP in review.
Built through the services, with real e-signatures of the demo users. Idempotent."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.signatures import signature_authenticate
from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Part, Site, User

from . import services
from .models import (
    AuditResult,
    CertificateType,
    NcrRecord,
    PpapElement,
    PpapReason,
    ReceiptRecord,
    ScarRecord,
    Supplier,
)
from .ppap import PHYSICAL

CT = CertificateType
LOT_DAYS = (3, 7, 11, 15, 19, 23, 27)


def demo_pdf(title: str) -> SimpleUploadedFile:
    text = title.encode("ascii", "replace")[:60]
    body = b"BT /F1 14 Tf 40 780 Td (" + text + b") Tj ET"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    name = "".join(ch if ch.isalnum() else "-" for ch in title)[:40] + ".pdf"
    return SimpleUploadedFile(name, out, content_type="application/pdf")


class _Signer:
    def __init__(self):
        self._creds = {}

    def __call__(self, user):
        cred = self._creds.get(user.pk)
        if cred is None or timezone.now() - cred.authenticated_at > datetime.timedelta(minutes=4):
            cred = signature_authenticate(user=user, password=DEMO_PASSWORD)
            self._creds[user.pk] = cred
        return cred


# code, name, category, risk, site, part, target status, profile
DEMO_SUPPLIERS = [
    ("SUP-XC", "Xingcheng Special Steel 兴澄特钢", "raw_material", "high", "BRG", "ST-52100", "approved", "A"),
    ("SUP-BS", "Baowu Bar Steel 宝武棒材", "raw_material", "high", "BRG", "ST-52100", "conditional", "B"),
    ("SUP-LY", "Liaoyang Steel 辽阳钢铁", "raw_material", "medium", "BRG", "ST-52100", "approved", "C"),
    ("SUP-HN", "Hunan Forging 湖南锻造", "raw_material", "high", "BRG", "ST-52100", "suspended", "D"),
    ("SUP-NB", "Ningbo Precision Balls 宁波精密钢球", "component", "high", "BRG", None, "under_evaluation", None),
    ("SUP-JS", "Jiangsu New Alloy 江苏新合金", "raw_material", "medium", "BRG", None, "prospective", None),
    ("SUP-OM", "Old Mill Steel 老钢厂", "raw_material", "high", "BRG", None, "disqualified", None),
    ("SUP-GM", "Bright Pasture Dairy Farm 光明牧场", "raw_material", "high", "FOOD", "RM-MILK", "approved", "A"),
    ("SUP-GX", "Guangxi Sugar 广西糖业", "raw_material", "low", "FOOD", "RM-SUGAR", "approved", "B"),
]

# profile -> (rejected lots per month, defective per accepted lot, defective per rejected lot, SCAR pattern)
PROFILES = {
    "A": (0, 0, 0, None),
    "B": (1, 1, 6, "on_time"),
    "C": (1, 2, 8, "on_time"),
    "D": (3, 3, 15, "late"),
}


def _certs_for(code, site_code, today):
    """(type, number, issuer, issued, valid_until) for each demo certificate."""
    two_years_ago = today - datetime.timedelta(days=730)
    far = today + datetime.timedelta(days=700)
    certs = [(CT.BUSINESS_LICENCE, f"91320000{code[-2:]}7788", "SAMR 市场监督管理局", two_years_ago, None)]
    if site_code == "BRG":
        certs.append((CT.ISO_9001, f"CN-9001-{code}", "TÜV SÜD", two_years_ago, far))
        if code == "SUP-BS":  # expires next week
            certs.append(
                (CT.IATF_16949, f"IATF-0412{code[-2:]}", "DNV", two_years_ago, today + datetime.timedelta(days=6))
            )
        elif code == "SUP-LY":  # expired ten days ago
            certs.append(
                (CT.IATF_16949, f"IATF-0388{code[-2:]}", "BV", two_years_ago, today - datetime.timedelta(days=10))
            )
        else:
            certs.append((CT.IATF_16949, f"IATF-0501{code[-2:]}", "SGS", two_years_ago, far))
    else:
        certs.append((CT.SC_LICENCE, f"SC1063101{code[-2:]}0012", "上海市市场监督管理局", two_years_ago, far))
        certs.append(
            (CT.TEST_REPORT, f"CTI-{code}-2026", "CTI 华测检测", two_years_ago, today + datetime.timedelta(days=200))
        )
    return certs


def _month_starts(today, n=12):
    months = []
    m = today.replace(day=1)
    for _i in range(n):
        m = (m - datetime.timedelta(days=1)).replace(day=1)
        months.append(m)
    return list(reversed(months))


def seed_suppliers() -> None:
    if Supplier.objects.filter(code="SUP-XC").exists():
        return
    today = timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=["sqe", "qm", "qe", "food_qm"])}
    sqe, qm, qe = users["sqe"], users["qm"], users["qe"]
    sign = _Signer()
    sites = {s.code: s for s in Site.objects.filter(code__in=["BRG", "FOOD"])}
    parts = {p.number: p for p in Part.objects.filter(number__in=["ST-52100", "RM-MILK", "RM-SUGAR"], revision="A")}
    months = _month_starts(today)

    for code, name, category, risk, site_code, part_no, target, profile in DEMO_SUPPLIERS:
        site = sites[site_code]
        part = parts.get(part_no) if part_no else None
        with audit_context(user=sqe, source="seed"):
            supplier = services.supplier_create(
                user=sqe,
                code=code,
                name=name,
                category=category,
                sites=[site],
                risk_level=risk,
                contact_name="Quality department 质量部",
                contact_email=f"quality@{code.lower()}.invalid",
                contact_phone="+86 21 5555 0000",
                country="CN",
                quality_agreement_on_file=target not in ("prospective", "under_evaluation"),
                quality_agreement_signed_on=today - datetime.timedelta(days=400)
                if target not in ("prospective", "under_evaluation")
                else None,
                sqe=sqe,
            )
        if target == "prospective":
            continue
        services.supplier_start_evaluation(
            supplier=supplier,
            user=sqe,
            credential=sign(sqe),
            reason="Sourcing request for new steel source / 新货源评估",
        )
        # Certificates: uploaded with a file, reviewed by the SQE.
        for cert_type, number, issuer, issued, valid_until in _certs_for(code, site_code, today):
            cert = services.certificate_upload(
                supplier=supplier,
                user=sqe,
                cert_type=cert_type,
                number=number,
                issuer=issuer,
                scope="Hot-rolled bearing steel bars / 轴承钢棒材" if site_code == "BRG" else "Raw material / 原料",
                issued_on=issued,
                valid_until=valid_until,
                upload=demo_pdf(f"{cert_type} {number}"),
            )
            if target == "under_evaluation" and cert_type != CT.BUSINESS_LICENCE:
                continue  # left awaiting review
            services.certificate_accept(  # reviewed by someone other than the uploader
                certificate=cert, user=qm, comment="Checked against issuer register", on=issued
            )
        if target == "under_evaluation":
            continue
        services.supplier_audit_record(
            supplier=supplier,
            user=sqe,
            audited_on=today - datetime.timedelta(days=420),
            auditor="Maria Rossi",
            result=AuditResult.FAILED if target == "disqualified" else AuditResult.PASSED,
            score=55 if target == "disqualified" else 88,
            findings="VDA 6.3 process audit" if site_code == "BRG" else "GMP / HACCP on-site audit",
        )
        if target == "disqualified":
            services.supplier_disqualify(
                supplier=supplier,
                user=qm,
                credential=sign(qm),
                reason="On-site audit failed: no control plan, no heat traceability / 审核不通过",
            )
            continue
        on = today - datetime.timedelta(days=380)
        if target == "conditional":
            services.supplier_approve_conditionally(
                supplier=supplier,
                user=qm,
                credential=sign(qm),
                reason="Second source; capacity audit pending / 第二货源，产能审核待完成",
                until=today + datetime.timedelta(days=90),
            )
        else:
            services.supplier_approve(
                supplier=supplier, user=qm, credential=sign(qm), reason="Qualification complete / 资格确认完成", on=on
            )
        # Approved supplier list.
        if code == "SUP-XC":
            _approved_ppap(supplier, part, sqe=sqe, qe=qe, qm=qm, sign=sign)
        else:
            entry = services.asl_entry_create(supplier=supplier, part=part, user=sqe)
            if target == "conditional":
                services.asl_approve_conditionally(
                    entry=entry, user=sqe, credential=sign(sqe), reason="Interim supply during PPAP",
                    until=today + datetime.timedelta(days=90), evidence="First article report FA-2026-017",
                )  # fmt: skip
            else:
                services.asl_approve(
                    entry=entry, user=qm, credential=sign(qm), reason="Qualified",
                    evidence="Supplier qualification report SQ-" + code[-2:],
                )  # fmt: skip
        if code == "SUP-BS":
            _ppap_in_review(supplier, part, sqe=sqe, qe=qe)
        _history(supplier, site, part, PROFILES[profile], months, stop_after=10 if target == "suspended" else 12)
        if target == "suspended":
            services.supplier_suspend(
                supplier=supplier, user=qm, credential=sign(qm),
                reason="Repeated cracks on bars, SCARs answered late / 反复出现裂纹，纠正措施逾期",
            )  # fmt: skip
    services.certificate_expiry_process(today=today)
    services.certificate_reminders_send(today=today)


def _attach_required(sub, user):
    for element in PpapElement.objects.filter(submission=sub, required=True).exclude(number__in=PHYSICAL):
        services.ppap_attachment_add(
            element=element, upload=demo_pdf(f"{sub.code} element {element.number}"), user=user
        )


def _approved_ppap(supplier, part, *, sqe, qe, qm, sign):
    sub = services.ppap_create(supplier=supplier, part=part, level=3, reason=PpapReason.INITIAL, user=sqe)
    _attach_required(sub, sqe)
    sub = services.ppap_submit(submission=sub, user=sqe)
    for element in PpapElement.objects.filter(submission=sub).select_related("submission"):
        if element.required:
            services.ppap_element_review(element=element, user=qe, status="accepted", comment="OK")
    services.ppap_approve(submission=sub, user=qm, credential=sign(qm), reason="All elements accepted; PSW signed")


def _ppap_in_review(supplier, part, *, sqe, qe):
    sub = services.ppap_create(supplier=supplier, part=part, level=3, reason=PpapReason.SUBCONTRACTOR, user=sqe)
    _attach_required(sub, sqe)
    sub = services.ppap_submit(submission=sub, user=sqe)
    for element in PpapElement.objects.filter(submission=sub, number__lte=7).select_related("submission"):
        if element.required:
            services.ppap_element_review(element=element, user=qe, status="accepted", comment="OK")
    element = PpapElement.objects.select_related("submission").get(submission=sub, number=9)
    services.ppap_element_review(
        element=element,
        user=qe,
        status="rejected",
        comment="Dimensional results: 2 of 5 bars out of straightness tolerance",
    )


def _history(supplier, site, part, profile, months, *, stop_after):
    rejects, def_ok, def_bad, scar = profile
    receipts, ncrs, scars = [], [], []
    for i, month in enumerate(months[:stop_after]):
        # Grade A suppliers have one bad month to make the trend move.
        month_rejects = 1 if rejects == 0 and i in (3, 8) else rejects
        for j, day in enumerate(LOT_DAYS):
            rejected = j >= len(LOT_DAYS) - month_rejects
            lot = f"{supplier.code[-2:]}-{month:%y%m}-{j + 1:02d}"
            receipts.append(
                ReceiptRecord(
                    supplier=supplier,
                    part=part,
                    site=site,
                    lot_code=lot,
                    received_on=month.replace(day=day),
                    accepted=not rejected,
                    quantity_inspected=1000,
                    quantity_defective=def_bad if rejected else def_ok,
                )
            )
            if rejected:
                ncrs.append(
                    NcrRecord(
                        supplier=supplier, site=site, ncr_code=f"NCR-DEMO-{lot}", raised_on=month.replace(day=day)
                    )
                )
        if scar and month_rejects:
            issued = month.replace(day=2)
            due = month.replace(day=16)
            responded = due - datetime.timedelta(days=3) if scar == "on_time" else due + datetime.timedelta(days=9)
            scars.append(
                ScarRecord(
                    supplier=supplier, site=site, scar_code=f"SCAR-DEMO-{supplier.code[-2:]}-{month:%y%m}",
                    issued_on=issued, due_on=due, responded_on=responded,
                )
            )  # fmt: skip
    with audit_context(reason="demo history", source="seed"):
        ReceiptRecord.objects.bulk_create(receipts)
        NcrRecord.objects.bulk_create(ncrs)
        ScarRecord.objects.bulk_create(scars)
    for month in months:
        services.scorecard_compute(supplier=supplier, site=site, month=month)
