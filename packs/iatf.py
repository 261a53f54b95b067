"""Automotive (IATF 16949): control plans per part in the AIAG layout, generated from the approved
inspection plans and the process parameters recorded in production; the PPAP submission pack; the
complaint pack with its 8D."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from compliance.reports import REPORTS, ReportError
from inspection.models import (
    Characteristic,
    ControlLimits,
    Inspection,
    InspectionPlan,
    IpqcSchedule,
    Measurement,
    PlanStatus,
    Stage,
)
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.models import Part, Site
from traceability.models import ProcessParameter, ProductionRecord

from .assemble import Section, assemble
from .models import ControlPlan, PackKind

STAGE_ORDER = {Stage.IQC: 0, Stage.FAI: 1, Stage.IPQC: 2, Stage.FQC: 3}


def _num(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _spec(nominal, low, high, unit) -> str:
    if low is not None and high is not None:
        text = f"{_num(low)} … {_num(high)}"
    elif low is not None:
        text = f"≥ {_num(low)}"
    elif high is not None:
        text = f"≤ {_num(high)}"
    else:
        text = _("attribute: as specified")
    if nominal is not None:
        text = f"{_num(nominal)} ({text})"
    return f"{text} {unit}".strip()


def _sampling(plan: InspectionPlan) -> str:
    if plan.fixed_sample_size:
        return _("%(n)s pieces") % {"n": plan.fixed_sample_size}
    return _("ISO 2859-1, AQL %(aql)s, level %(level)s") % {"aql": plan.aql or "—", "level": plan.level}


def _frequency(plan: InspectionPlan, schedules: dict) -> str:
    if plan.stage == Stage.IPQC:
        sched = schedules.get(plan.pk)
        if sched:
            return _("every %(m)s min, %(n)s pieces") % {"m": sched.every_minutes, "n": sched.pieces}
        return _("per patrol schedule")
    return {
        Stage.IQC: _("each received lot"),
        Stage.FAI: _("first piece of each work order and set-up"),
        Stage.FQC: _("each finished lot"),
    }.get(plan.stage, "")


def _control_method(plan, c, frozen: set) -> str:
    if c.pk in frozen:
        return _("SPC control chart (frozen limits) and inspection record")
    return {
        Stage.IQC: _("Incoming inspection record, lot release"),
        Stage.FAI: _("First article approval before the run"),
        Stage.IPQC: _("Patrol inspection record"),
        Stage.FQC: _("Final inspection record, signed lot release"),
    }.get(plan.stage, _("Inspection record"))


def _reaction(plan, c) -> str:
    base = {
        Stage.IPQC: _("Stop the line, contain output since the last good check, open an NCR"),
        Stage.FAI: _("Do not start the run; correct the set-up and repeat the first article"),
    }.get(plan.stage, _("Hold the lot, open an NCR for the MRB"))
    if c.special == "CC":
        base += "; " + _("sort every piece and inform the customer")
    elif c.special == "SC":
        base += "; " + _("review capability")
    return base


def control_plan_rows(site, part) -> tuple[list[dict], list[dict]]:
    """The AIAG rows of a part's control plan at a site and the plan versions they come from."""
    plans = sorted(
        InspectionPlan.objects.filter(site=site, part=part, status=PlanStatus.APPROVED),
        key=lambda p: (STAGE_ORDER.get(p.stage, 9), p.operation_name, p.pk),
    )
    chars = list(
        Characteristic.objects.filter(plan__in=plans).select_related("gauge").order_by("plan_id", "sequence", "pk")
    )
    frozen = set(
        ControlLimits.objects.filter(characteristic__in=chars, status="frozen").values_list(
            "characteristic_id", flat=True
        )
    )
    schedules = {s.plan_id: s for s in IpqcSchedule.objects.filter(plan__in=plans, is_active=True)}
    machines: dict[str, str] = {}
    for rec in (
        ProductionRecord.objects.filter(work_order__site=site, work_order__part=part, equipment__isnull=False)
        .select_related("operation", "equipment")
        .order_by("started_at")
    ):
        machines[rec.operation.name if rec.operation else ""] = str(rec.equipment)
    rows = []
    for plan in plans:
        step = plan.operation_name or str(plan.get_stage_display())
        for c in (c for c in chars if c.plan_id == plan.pk):
            technique = " · ".join(x for x in [c.method, str(c.gauge) if c.gauge else ""] if x) or _("visual / as plan")
            rows.append(
                {
                    "step": step,
                    "stage": plan.stage,
                    "machine": machines.get(plan.operation_name, "") or "—",
                    "kind": "product",
                    "characteristic": c.name,
                    "special": c.special,
                    "specification": _spec(c.nominal, c.lower_limit, c.upper_limit, c.unit),
                    "technique": technique,
                    "sample": _sampling(plan),
                    "frequency": _frequency(plan, schedules),
                    "control": _control_method(plan, c, frozen),
                    "reaction": _reaction(plan, c),
                }
            )
    # Process parameters: the latest limits recorded for each (operation, parameter) of the part's runs.
    params: OrderedDict = OrderedDict()
    for p in (
        ProcessParameter.objects.filter(record__work_order__site=site, record__work_order__part=part)
        .select_related("record__operation", "record__equipment")
        .order_by("record__started_at", "pk")
    ):
        op = p.record.operation.name if p.record.operation else ""
        params[(op, p.name)] = p
    for (op, name), p in params.items():
        rows.append(
            {
                "step": op or _("Production"),
                "stage": "PROCESS",
                "machine": str(p.record.equipment) if p.record.equipment else (machines.get(op, "") or "—"),
                "kind": "process",
                "characteristic": name,
                "special": "",
                "specification": _spec(None, p.lower_limit, p.upper_limit, p.unit)
                if (p.lower_limit is not None or p.upper_limit is not None)
                else _("as set"),
                "technique": _("Machine setting, recorded in the production record"),
                "sample": _("each run"),
                "frequency": _("each production record"),
                "control": _("Production record (5M1E)"),
                "reaction": _("Adjust the setting; hold output made outside the limits"),
            }
        )
    sources = [{"plan": p.pk, "stage": p.stage, "version": p.version, "title": p.title} for p in plans]
    return rows, sources


def _hash(rows, sources) -> str:
    return hashlib.sha256(
        json.dumps({"rows": rows, "sources": sources}, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def control_plan_generate(*, site, part, user) -> tuple[ControlPlan, bool]:
    """A snapshot of the part's control plan at the site. Returns (plan, created): when nothing changed
    since the latest version (same plan versions, same rows) that version is returned; otherwise a new
    version is stored with its SHA-256."""
    policy.check(user, "packs.control_plan", site)
    rows = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            rows[code], sources = control_plan_rows(site, part)
    if not rows[settings.LANGUAGE_CODE]:
        raise DomainError(
            _("Part %(part)s has no approved inspection plan at %(site)s: approve one, then generate the control plan.")
            % {"part": part.number, "site": site.code}
        )
    digest = _hash(rows, sources)
    with transaction.atomic(), audit_context(user=user, reason="control plan generated"):
        Site.objects.select_for_update().filter(pk=site.pk).values_list("pk", flat=True).first()
        latest = ControlPlan.objects.filter(site=site, part=part).order_by("-version").first()
        if latest is not None and latest.sha256 == digest:
            return latest, False
        try:
            with transaction.atomic():
                plan = ControlPlan.objects.create(
                    site=site,
                    part=part,
                    version=(latest.version + 1) if latest else 1,
                    rows=rows,
                    sources=sources,
                    sha256=digest,
                    generated_by=user,
                    generated_at=timezone.now(),
                )
        except IntegrityError:
            return ControlPlan.objects.filter(site=site, part=part).order_by("-version").first(), False
    return plan, True


def control_plan_for(site, part_number: str, version: str = "") -> ControlPlan | None:
    qs = ControlPlan.objects.filter(site=site, part__number=part_number).select_related("part", "site", "generated_by")
    if version:
        if not str(version).isdigit():
            return None
        return qs.filter(version=int(version)).first()
    return qs.order_by("-version").first()


def plan_rows(plan: ControlPlan) -> list[dict]:
    """The rows in the active language (stored in every language when generated)."""
    rows = plan.rows or {}
    return rows.get(translation.get_language()) or rows.get(settings.LANGUAGE_CODE) or []


def build_control_plan(params, user):
    from .food import resolve_site

    site = resolve_site(params, user, "packs.view")
    number = (params.get("part") or "").strip()
    if not number:
        plan = ControlPlan.objects.filter(site=site).select_related("part").order_by("-generated_at").first()
        if plan is None:
            raise ReportError(_("No control plan has been generated at %(site)s yet.") % {"site": site.code})
    else:
        plan = control_plan_for(site, number, params.get("version", ""))
        if plan is None:
            raise ReportError(
                _("No control plan for part “%(p)s” (version %(v)s) at %(site)s. Generate it on the packs page.")
                % {"p": number, "v": params.get("version") or _("latest"), "site": site.code},
                field="part",
            )
    return {
        "title": _("Control plan %(part)s version %(v)s") % {"part": plan.part.number, "v": plan.version},
        "site_id": site.pk,
        "plan": plan,
        "rows": plan_rows(plan),
        "effective_params": {"site": site.code, "part": plan.part.number, "version": str(plan.version)},
        "param_rows": [
            (_("Site"), str(site)),
            (_("Part"), str(plan.part)),
            (_("Version"), plan.version),
            (_("SHA-256"), plan.sha256),
        ],
    }


# --- PPAP submission pack -------------------------------------------------------------------------------


def ppap_for_pack(code: str, user):
    from suppliers.models import PpapSubmission

    code = (code or "").strip()
    ppap = (
        PpapSubmission.objects.select_related("supplier", "part", "created_by", "submitted_by", "decided_by")
        .filter(code=code)
        .first()
        if code and len(code) <= 40
        else None
    )
    if ppap is None:
        raise ReportError(
            _("No PPAP submission has the number “%(c)s” at your sites.") % {"c": code[:40]}, field="ppap"
        )
    sites = policy.sites_for(user, "packs.export") if getattr(user, "pk", None) else None
    served = ppap.supplier.sites.all() if sites is None else ppap.supplier.sites.filter(pk__in=sites)
    site = served.order_by("code").first()
    if site is None:
        raise ReportError(_("You may not take the records of PPAP %(c)s away.") % {"c": ppap.code})
    return ppap, site


class PpapPack:
    def __init__(self, ppap, site, user):
        self.ppap, self.site, self.user = ppap, site, user
        self.elements = list(ppap.elements.prefetch_related("attachments").order_by("number"))

    def psw(self) -> str:
        from compliance.signatures import signatures_with_validity

        return render_to_string(
            "packs/pdf/ppap_psw.html",
            {
                "ppap": self.ppap,
                "site": self.site,
                "elements": self.elements,
                "signatures": signatures_with_validity(self.ppap),
            },
        )

    def dimensional(self) -> str:
        insps = list(
            Inspection.objects.filter(site=self.site, part=self.ppap.part, stage=Stage.FAI)
            .select_related("plan", "inspector", "lot", "work_order")
            .order_by("-created_at")[:5]
        )
        values = {}
        for m in (
            Measurement.objects.filter(inspection__in=insps)
            .select_related("characteristic")
            .order_by("characteristic__sequence", "sample_no")
        ):
            values.setdefault(m.inspection_id, []).append(m)
        return render_to_string(
            "packs/pdf/lot_inspections.html",
            {
                "items": [{"i": i, "values": values.get(i.pk, []), "signatures": []} for i in insps],
                "first": True,
                "total": len(insps),
                "heading": _("Dimensional results (FAI)"),
            },
        )

    def capability(self):
        chars = list(
            Characteristic.objects.filter(
                plan__site=self.site, plan__part=self.ppap.part, plan__status=PlanStatus.APPROVED, kind="variable"
            ).order_by("plan__stage", "sequence")
        )
        done = False
        for c in chars:
            try:
                body = _report_body("inspection.capability", {"characteristic": str(c.pk)}, self.user)
            except ReportError:
                continue
            done = True
            yield body
        if not done:
            yield "<p>%s</p>" % escape(
                _("No characteristic of this part has enough SPC data for a capability study yet.")
            )

    def control_plan(self) -> str:
        plan = ControlPlan.objects.filter(site=self.site, part=self.ppap.part).order_by("-version").first()
        return render_to_string("packs/pdf/control_plan.html", {"plan": plan, "rows": plan_rows(plan) if plan else []})

    def sections(self):
        return [
            Section("psw", _("Part submission warrant and elements"), [self.psw()]),
            Section("control_plan", _("Control plan"), [self.control_plan()]),
            Section("dimensional", _("Dimensional results (FAI)"), [self.dimensional()]),
            Section("capability", _("Initial process studies (capability)"), self.capability()),
        ]

    def attachments(self):
        for element in self.elements:
            for att in element.attachments.all():
                yield (
                    f"#{element.number} {element.name}",
                    att.file_name,
                    (lambda att=att: _read_checked(att.file, att.file_sha256)),
                )


def _read_checked(field, sha) -> bytes | None:
    try:
        with field.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, ValueError):
        return None
    return data if not sha or hashlib.sha256(data).hexdigest() == sha else None


def _report_body(key, params, user) -> str:
    report = REPORTS[key]
    context = report.build(params, user)
    return render_to_string(report.template, {**context, "report": report, "params": params})


def build_ppap(params, user):
    ppap, site = ppap_for_pack(params.get("ppap", ""), user)
    pack = PpapPack(ppap, site, user)
    return {
        "title": _("PPAP submission pack %(code)s") % {"code": ppap.code},
        "site_id": site.pk,
        "effective_params": {"ppap": ppap.code},
        "param_rows": [(_("PPAP"), ppap.code)],
        "body": pack.psw(),
    }


def run_ppap(job, user, progress):
    ppap, site = ppap_for_pack(job.params.get("ppap", ""), user)
    pack = PpapPack(ppap, site, user)
    stored, _row = assemble(
        pack.sections(),
        title=_("PPAP submission pack %(code)s") % {"code": ppap.code},
        kind=PackKind.PPAP,
        subject=ppap.code,
        site=site,
        user=user,
        params={"ppap": ppap.code},
        key="packs.ppap",
        prefix="PPAP",
        progress=progress,
        param_rows=[(_("PPAP"), ppap.code), (_("Supplier"), str(ppap.supplier)), (_("Part"), str(ppap.part))],
        attachments=list(pack.attachments()),
    )
    return stored


# --- complaint pack with 8D -----------------------------------------------------------------------------


def complaint_for_pack(code: str, user):
    from nonconformance.models import Complaint

    code = (code or "").strip()
    complaint = (
        Complaint.objects.select_related("site", "customer", "part", "lot").filter(code=code).first()
        if code and len(code) <= 30
        else None
    )
    if complaint is None:
        raise ReportError(_("No complaint has the number “%(c)s” at your sites.") % {"c": code[:30]}, field="complaint")
    if getattr(user, "pk", None) and not policy.can(user, "packs.export", complaint.site):
        raise ReportError(_("You may not take the records of complaint %(c)s away.") % {"c": complaint.code})
    return complaint


def _complaint_sections(complaint, user):
    from capa.models import Capa
    from nonconformance.models import Ncr

    ncrs = list(Ncr.objects.filter(complaint=complaint).order_by("created_at"))
    capas = list(Capa.objects.filter(complaint=complaint).order_by("created_at"))

    def ncr_parts():
        if not ncrs:
            yield "<p>%s</p>" % escape(_("No NCR was opened for this complaint."))
        for n in ncrs:
            yield _report_body("nonconformance.ncr", {"ncr": n.code}, user)

    def capa_parts():
        if not capas:
            yield "<p>%s</p>" % escape(_("No 8D / CAPA is linked to this complaint yet."))
        for c in capas:
            yield _report_body("capa.8d", {"capa": c.code}, user)

    return [
        Section(
            "complaint",
            _("Complaint"),
            [render_to_string("packs/pdf/complaint.html", {"c": complaint, "ncrs": ncrs, "capas": capas})],
        ),
        Section("ncrs", _("NCRs"), ncr_parts()),
        Section("8d", _("8D report"), capa_parts()),
    ]


def build_complaint(params, user):
    complaint = complaint_for_pack(params.get("complaint", ""), user)
    return {
        "title": _("Complaint pack %(code)s") % {"code": complaint.code},
        "site_id": complaint.site_id,
        "effective_params": {"complaint": complaint.code},
        "param_rows": [(_("Complaint"), complaint.code)],
        "body": render_to_string("packs/pdf/complaint.html", {"c": complaint, "ncrs": [], "capas": []}),
    }


def run_complaint(job, user, progress):
    complaint = complaint_for_pack(job.params.get("complaint", ""), user)
    stored, _row = assemble(
        _complaint_sections(complaint, user),
        title=_("Complaint pack %(code)s") % {"code": complaint.code},
        kind=PackKind.COMPLAINT,
        subject=complaint.code,
        site=complaint.site,
        user=user,
        params={"complaint": complaint.code},
        key="packs.complaint",
        prefix="CMP",
        progress=progress,
        param_rows=[(_("Complaint"), complaint.code), (_("Customer"), str(complaint.customer))],
    )
    return stored


def parts_with_plans(site) -> list[Part]:
    ids = InspectionPlan.objects.filter(site=site, status=PlanStatus.APPROVED).values_list("part_id", flat=True)
    return list(Part.objects.filter(pk__in=ids).order_by("number"))
