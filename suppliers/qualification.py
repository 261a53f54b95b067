"""The qualification checklist, driven by the industry profiles of the sites a supplier delivers to.

Pure functions over already-loaded rows (no queries): `build_checklist(...)` is used by the approval
services, the gate `supplier_can_supply`, the detail page and the scorecard's certificate compliance.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.models import Industry

from .models import AuditResult, CertificateStatus, CertificateType, RiskLevel

CT = CertificateType
QUALITY_AGREEMENT = "quality_agreement"
ONSITE_AUDIT = "onsite_audit"

# Licences without which buying is unlawful: needed even for a conditional approval.
LEGAL = {CT.BUSINESS_LICENCE, CT.SC_LICENCE, CT.GMP}
# How long an on-site audit counts as the qualification audit.
AUDIT_VALID_DAYS = 3 * 365


@dataclass(frozen=True)
class Requirement:
    key: str  # certificate type(s) joined by "|", or QUALITY_AGREEMENT / ONSITE_AUDIT
    label: object
    mandatory: bool = True

    @property
    def cert_types(self) -> tuple[str, ...]:
        if self.key in (QUALITY_AGREEMENT, ONSITE_AUDIT):
            return ()
        return tuple(self.key.split("|"))

    @property
    def needed_for_conditional(self) -> bool:
        return bool(set(self.cert_types) & LEGAL)


def requirements_for(industries: set[str], risk_level: str) -> list[Requirement]:
    """The checklist for a supplier delivering to sites of these industry profiles."""
    food_only = industries == {Industry.FOOD}
    reqs = [
        Requirement(CT.BUSINESS_LICENCE, CT.BUSINESS_LICENCE.label),
        # Food plants qualify farms and mills on SC licences and test reports; ISO 9001 is welcome there.
        Requirement(CT.ISO_9001, CT.ISO_9001.label, mandatory=not food_only),
    ]
    if Industry.AUTOMOTIVE in industries:
        reqs.append(Requirement(CT.IATF_16949, CT.IATF_16949.label))
    if Industry.PHARMA in industries:
        reqs.append(Requirement(f"{CT.ISO_13485}|{CT.GMP}", gettext_lazy("ISO 13485 or GMP certificate")))
    if Industry.FOOD in industries:
        reqs.append(Requirement(CT.SC_LICENCE, CT.SC_LICENCE.label))
        reqs.append(Requirement(CT.TEST_REPORT, CT.TEST_REPORT.label))
    reqs.append(Requirement(QUALITY_AGREEMENT, gettext_lazy("Quality agreement")))
    reqs.append(Requirement(ONSITE_AUDIT, gettext_lazy("On-site audit passed"), mandatory=risk_level != RiskLevel.LOW))
    return reqs


@dataclass
class ChecklistItem:
    requirement: Requirement
    state: str  # ok | missing | expired | pending | failed
    detail: str = ""
    certificate: object = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def label(self):
        return self.requirement.label

    @property
    def mandatory(self) -> bool:
        return self.requirement.mandatory


@dataclass
class Checklist:
    items: list[ChecklistItem] = field(default_factory=list)

    def blocking(self, *, conditional: bool = False) -> list[ChecklistItem]:
        """Mandatory items not satisfied (for a conditional approval: only the legal licences)."""
        return [
            i
            for i in self.items
            if i.mandatory and not i.ok and (not conditional or i.requirement.needed_for_conditional)
        ]

    @property
    def complete(self) -> bool:
        return not self.blocking()

    def messages(self, *, conditional: bool = False) -> list[str]:
        return [f"{i.label}: {i.detail}" for i in self.blocking(conditional=conditional)]


def _describe_cert_state(certs, types, on) -> tuple[str, str, object]:
    """(state, detail, certificate) for the best certificate of `types` among `certs`."""
    mine = [c for c in certs if c.cert_type in types]
    current = [c for c in mine if c.status == CertificateStatus.VALID and not c.is_expired(on)]
    if current:
        best = max(current, key=lambda c: c.valid_until or datetime.date.max)
        detail = (
            _("valid until %(d)s") % {"d": best.valid_until.isoformat()} if best.valid_until else _("no expiry date")
        )
        return "ok", detail, best
    expired = [c for c in mine if c.status == CertificateStatus.VALID and c.is_expired(on)]
    if expired:
        last = max(expired, key=lambda c: c.valid_until)
        return (
            "expired",
            _("expired on %(d)s; upload the renewed certificate") % {"d": last.valid_until.isoformat()},
            last,
        )
    pending = [c for c in mine if c.status == CertificateStatus.PENDING_REVIEW]
    if pending:
        return "pending", _("uploaded, awaiting review"), pending[0]
    return "missing", _("missing; upload it in the certificate register"), None


def build_checklist(*, supplier, industries: set[str], certificates, audits, on=None) -> Checklist:
    """`certificates` and `audits` are the supplier's rows, already loaded."""
    on = on or datetime.date.today()
    checklist = Checklist()
    for req in requirements_for(industries, supplier.risk_level):
        if req.key == QUALITY_AGREEMENT:
            if supplier.quality_agreement_on_file:
                signed = supplier.quality_agreement_signed_on
                item = ChecklistItem(
                    req, "ok", _("signed on %(d)s") % {"d": signed.isoformat()} if signed else _("on file")
                )
            else:
                item = ChecklistItem(req, "missing", _("not on file; record the signed quality agreement"))
        elif req.key == ONSITE_AUDIT:
            recent = [a for a in audits if (on - a.audited_on).days <= AUDIT_VALID_DAYS and a.audited_on <= on]
            if not recent:
                item = ChecklistItem(req, "missing", _("no audit in the last three years; record the audit result"))
            else:
                last = max(recent, key=lambda a: (a.audited_on, a.pk or 0))
                if last.result == AuditResult.FAILED:
                    item = ChecklistItem(
                        req, "failed", _("last audit on %(d)s failed") % {"d": last.audited_on.isoformat()}
                    )
                else:
                    item = ChecklistItem(
                        req,
                        "ok",
                        _("%(result)s on %(d)s")
                        % {"result": last.get_result_display(), "d": last.audited_on.isoformat()},
                    )
        else:
            state, detail, cert = _describe_cert_state(certificates, req.cert_types, on)
            item = ChecklistItem(req, state, detail, cert)
        checklist.items.append(item)
    return checklist


def mandatory_cert_types(industries: set[str], risk_level: str) -> set[str]:
    types: set[str] = set()
    for req in requirements_for(industries, risk_level):
        if req.mandatory:
            types.update(req.cert_types)
    return types


def cert_compliance_on(*, industries: set[str], risk_level: str, certificates, day: datetime.date) -> float:
    """Percentage of mandatory certificate requirements covered by a certificate valid on `day`
    (accepted ones, including those since superseded: they were valid in their time)."""
    reqs = [r for r in requirements_for(industries, risk_level) if r.mandatory and r.cert_types]
    if not reqs:
        return 100.0
    covered = 0
    for req in reqs:
        for c in certificates:
            if (
                c.cert_type in req.cert_types
                and c.status in (CertificateStatus.VALID, CertificateStatus.SUPERSEDED)
                and (c.issued_on is None or c.issued_on <= day)
                and (c.valid_until is None or c.valid_until >= day)
            ):
                covered += 1
                break
    return 100.0 * covered / len(reqs)
