"""Everything about lot X: one bundle an auditor takes away.

Sections, each rendered on its own (long ones in chunks) and merged by packs.assemble:
summary · trace both ways · every inspection with its values and signatures · NCRs with their MRB
dispositions · releases, rejections and holds with their signatures · batch records and deviations (when
the batchrecords app provides them) · the CoA · the audit trail of every record involved · manifest.

The lot and everything read are in the requester's sites (the export job opens that scope); the lot's own
site decides who may request and download the bundle (`packs.export`).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Iterator
from functools import partial

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from compliance.models import AuditEntry
from compliance.reports import REPORTS, ReportError
from compliance.selectors import entry_rows
from compliance.signatures import signatures_with_validity, signatures_with_validity_many
from inspection.models import Inspection, LotRelease, Measurement, RejectionDecision
from nonconformance.models import Disposition, DispositionLine, MrbDecision, Ncr, NcrLot
from qms.core import policy
from qms.core.codes import code_problem
from traceability import selectors as trace_selectors
from traceability.models import Lot, LotHold, LotLink, Shipment

from .assemble import Section, assemble
from .fastpdf import table_part
from .models import PackKind

INSPECTIONS_PER_CHUNK = 40
AUDIT_ROWS_PER_CHUNK = 500
PERM = "packs.export"


def lot_for_bundle(code: str, user) -> Lot:
    """The lot named by `code` as the user's scope sees it, or a readable refusal."""
    code = (code or "").strip()
    if not code:
        raise ReportError(_("Give the lot code."), field="lot")
    lot = None
    if len(code) <= 60 and "\x00" not in code:
        lot = Lot.objects.select_related("part", "site", "supplier", "work_order").filter(code=code).first()
    if lot is None:
        problem = code_problem(code, label=_("lot code"), max_length=60)
        if problem:
            raise ReportError(problem, field="lot")
        raise ReportError(
            _("No lot has the code “%(c)s” at your sites. Check the code and try again.") % {"c": code}, field="lot"
        )
    if user is not None and getattr(user, "pk", None) and not policy.can(user, PERM, lot.site):
        raise ReportError(_("You may not take the records of lot %(c)s away: ask your quality manager.") % {"c": code})
    return lot


def _report_body(key: str, params: dict, user) -> str:
    report = REPORTS[key]
    context = report.build(params, user)
    return render_to_string(report.template, {**context, "report": report, "params": params})


def _chunks(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


class LotBundle:
    """Reads the lot's records once (ids only) and yields each section's HTML lazily."""

    def __init__(self, lot: Lot, user):
        self.lot = lot
        self.user = user
        self.back = trace_selectors.trace_backward(lot)
        self.fwd = trace_selectors.trace_forward(lot)
        self.lot_ids = [lot.pk] + [r["lot_id"] for r in self.back]
        wo = dict(Lot.objects.filter(pk__in=self.lot_ids).values_list("pk", "work_order_id"))
        wo_ids = [w for w in wo.values() if w]
        cond = Q(lot_id__in=self.lot_ids)
        if wo_ids:
            cond |= Q(lot__isnull=True, work_order_id__in=wo_ids)
        self.inspection_ids = list(
            Inspection.objects.filter(cond).order_by("lot_id", "created_at", "pk").values_list("pk", flat=True)
        )
        self.ncr_links = list(
            NcrLot.objects.filter(lot_id__in=self.lot_ids).select_related("ncr").order_by("ncr__created_at", "pk")
        )
        self.ncrs = list({link.ncr_id: link.ncr for link in self.ncr_links}.values())
        self.batch_available, self.batch_records_list, self.deviations = self._load_batch_records()

    def _load_batch_records(self):
        """From the batchrecords app when it provides them (it is below packs, but may be absent)."""
        try:
            br = importlib.import_module("batchrecords.selectors")
        except ImportError:
            return False, [], []
        if not hasattr(br, "lot_batch_records"):
            return False, [], []
        records = list(br.lot_batch_records(self.lot))
        deviations = list(br.lot_deviations(self.lot)) if hasattr(br, "lot_deviations") else []
        return True, records, deviations

    # --- sections ---------------------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        return [
            Section("summary", _("Summary"), [self.summary()]),
            Section("trace", _("Trace both ways"), self._lazy(self.trace, _("Trace both ways"))),
            Section("inspections", _("Inspections and values"), self.inspections()),
            Section("ncrs", _("NCRs and dispositions"), self.nonconformances()),
            Section("releases", _("Releases, rejections and holds"), self._lazy(self.releases)),
            Section("batch_records", _("Batch records and deviations"), self.batch_records()),
            Section("coa", _("Certificate of Analysis"), self._lazy(self.coa, _("Certificate of Analysis"))),
            Section("audit_trail", _("Audit trail of every record involved"), self.audit_trail()),
        ]

    @staticmethod
    def _lazy(fn, heading: str = "") -> Iterator[str]:
        head = f"<h1 class='section'>{escape(heading)}</h1>" if heading else ""
        yield head + fn()

    def summary(self) -> str:
        lot = self.lot
        return render_to_string(
            "packs/pdf/lot_summary.html",
            {
                "lot": lot,
                "ancestors": len(self.back),
                "descendants": len(self.fwd),
                "inspections": len(self.inspection_ids),
                "ncrs": self.ncrs,
                "holds": LotHold.objects.filter(lot=lot).count(),
                "shipments": list(Shipment.objects.filter(lot=lot).select_related("customer")),
                "remaining": trace_selectors.lot_remaining(lot),
                "section_titles": [s for s in self._titles()],
            },
        )

    def _titles(self):
        return [
            _("Trace both ways"),
            _("Inspections and values"),
            _("NCRs and dispositions"),
            _("Releases, rejections and holds"),
            _("Batch records and deviations"),
            _("Certificate of Analysis"),
            _("Audit trail of every record involved"),
            _("Manifest"),
        ]

    def trace(self) -> str:
        return _report_body("traceability.trace", {"lot": self.lot.code}, self.user)

    def coa(self) -> str:
        return _report_body("inspection.coa", {"lot": self.lot.code}, self.user)

    def inspections(self) -> Iterator:
        total = len(self.inspection_ids)
        if not total:
            yield render_to_string("packs/pdf/lot_inspections.html", {"items": [], "first": True, "total": 0})
            return
        columns = [
            (_("Characteristic"), 24),
            (_("Specification"), 18),
            (_("Sample"), 7),
            (_("Value"), 14),
            (_("Result"), 8),
            (_("Remark"), 29),
        ]
        intro = ngettext(
            "%(n)s inspection of the lot, of the lots it was made from and of the work orders that made them.",
            "%(n)s inspections of the lot, of the lots it was made from and of the work orders that made them.",
            total,
        ) % {"n": total}
        for n, ids in enumerate(_chunks(self.inspection_ids, INSPECTIONS_PER_CHUNK)):
            yield partial(self._inspection_chunk, ids, columns, intro if n == 0 else "", n == 0)

    def _inspection_chunk(self, ids, columns, intro, first, meta):
        insps = list(
            Inspection.objects.filter(pk__in=ids)
            .select_related("plan", "lot", "inspector", "work_order")
            .order_by("lot_id", "created_at", "pk")
        )
        values = defaultdict(list)
        for m in (
            Measurement.objects.filter(inspection_id__in=ids)
            .select_related("characteristic")
            .order_by("inspection_id", "characteristic__sequence", "characteristic_id", "sample_no")
        ):
            values[m.inspection_id].append(m)
        sigs = signatures_with_validity_many(insps)
        rows = []
        for i in insps:
            head = _(
                "%(code)s · %(stage)s · %(status)s · lot %(lot)s · plan %(plan)s · sample %(n)s (Ac %(ac)s / Re %(re)s)"
                " · nonconforming %(bad)s · inspector %(who)s · completed %(at)s"
            ) % {
                "code": i.code,
                "stage": i.get_stage_display(),
                "status": i.get_status_display(),
                "lot": i.lot.code if i.lot else (i.work_order.code if i.work_order else "—"),
                "plan": str(i.plan),
                "n": i.sample_size,
                "ac": i.accept_number,
                "re": i.reject_number,
                "bad": i.nonconforming,
                "who": i.inspector.printed_name if i.inspector else "—",
                "at": f"{i.completed_at:%Y-%m-%d %H:%M} UTC" if i.completed_at else "—",
            }
            for sig, valid in sigs.get(i.pk, []):
                head += " · " + _("signed %(name)s, %(meaning)s, %(at)s UTC, record hash %(hash)s%(invalid)s") % {
                    "name": sig.printed_name,
                    "meaning": sig.get_meaning_display(),
                    "at": f"{sig.signed_at:%Y-%m-%d %H:%M:%S}",
                    "hash": sig.record_hash,
                    "invalid": "" if valid else " — " + _("NO LONGER VALID"),
                }
            rows.append(("group", head))
            for m in values.get(i.pk, []):
                c = m.characteristic
                spec = " … ".join(
                    "" if x is None else f"{x.normalize():f}" for x in (c.lower_limit, c.upper_limit)
                ).strip()
                if m.value is not None:
                    shown = f"{m.value:.{m.decimals if m.decimals is not None else c.decimals}f}"
                elif m.passed is not None:
                    shown = _("pass") if m.passed else _("fail")
                elif m.count is not None:
                    shown = str(m.count)
                else:
                    shown = "—"
                result = _("OK") if m.ok is True else (_("NOK") if m.ok is False else "—")
                rows.append([c.name, f"{spec} {c.unit}".strip(), m.sample_no, shown, result, m.text])
        return table_part(
            heading=_("Inspections and values") if first else "",
            intro=intro,
            columns=columns,
            rows=rows,
            meta=meta,
        )

    def nonconformances(self) -> Iterator[str]:
        if not self.ncrs:
            yield "<h1 class='section'>%s</h1><p>%s</p>" % (
                escape(_("NCRs and dispositions")),
                escape(_("No NCR concerns this lot or the lots it was made from.")),
            )
            return
        for n, ncr in enumerate(self.ncrs):
            head = f"<h1 class='section'>{escape(_('NCRs and dispositions'))}</h1>" if n == 0 else ""
            yield head + _report_body("nonconformance.ncr", {"ncr": ncr.code}, self.user)

    def releases(self) -> str:
        releases = list(
            LotRelease.objects.filter(lot_id__in=self.lot_ids).select_related("lot", "released_by").order_by("pk")
        )
        sigs = signatures_with_validity_many(releases)
        rejections = list(RejectionDecision.objects.filter(lot_id__in=self.lot_ids).select_related("lot"))
        holds = list(
            LotHold.objects.filter(lot_id__in=self.lot_ids)
            .select_related("lot", "placed_by", "lifted_by")
            .order_by("placed_at")
        )
        return render_to_string(
            "packs/pdf/lot_releases.html",
            {
                "releases": [{"r": r, "signatures": sigs.get(r.pk, [])} for r in releases],
                "rejections": rejections,
                "holds": holds,
                "lot_signatures": signatures_with_validity(self.lot),
            },
        )

    def batch_records(self) -> Iterator[str]:
        """Filled by the batchrecords app when it is installed: lot_batch_records(lot), lot_deviations(lot)
        and its PDF partial batchrecords/pdf/_batch_record.html (context `record`)."""
        available, records, deviations = self.batch_available, self.batch_records_list, self.deviations
        parts = [
            render_to_string(
                "packs/pdf/lot_batch_head.html",
                {"available": available, "records": records, "deviations": deviations},
            )
        ]
        for record in records:
            parts.append(render_to_string("batchrecords/pdf/_batch_record.html", {"record": record}))
        yield "\n".join(parts)

    def involved(self) -> dict[str, list[str]]:
        """model label -> ids (as text) of every record of the bundle: lots, links, holds, shipments,
        inspections and their values, releases and rejections, NCRs with their dispositions."""
        ids = self.lot_ids
        ncr_ids = [n.pk for n in self.ncrs]
        disp_ids = list(Disposition.objects.filter(ncr_id__in=ncr_ids).values_list("pk", flat=True))
        groups = {
            Lot: ids,
            LotLink: LotLink.objects.filter(child_id__in=ids).values_list("pk", flat=True),
            LotHold: LotHold.objects.filter(lot_id__in=ids).values_list("pk", flat=True),
            Shipment: Shipment.objects.filter(lot_id__in=ids).values_list("pk", flat=True),
            Inspection: self.inspection_ids,
            Measurement: Measurement.objects.filter(inspection_id__in=self.inspection_ids).values_list("pk", flat=True),
            LotRelease: LotRelease.objects.filter(lot_id__in=ids).values_list("pk", flat=True),
            RejectionDecision: RejectionDecision.objects.filter(lot_id__in=ids).values_list("pk", flat=True),
            Ncr: ncr_ids,
            NcrLot: [link.pk for link in self.ncr_links],
            Disposition: disp_ids,
            DispositionLine: DispositionLine.objects.filter(disposition_id__in=disp_ids).values_list("pk", flat=True),
            MrbDecision: MrbDecision.objects.filter(disposition_id__in=disp_ids).values_list("pk", flat=True),
        }
        out = {m._meta.label_lower: [str(x) for x in v] for m, v in groups.items() if len(v)}
        for obj in [*self.batch_records_list, *self.deviations]:
            out.setdefault(obj._meta.label_lower, []).append(str(obj.pk))
        return out

    def audit_trail(self) -> Iterator:
        cond = Q(pk__in=[])
        for label, ids in self.involved().items():
            cond |= Q(model=label, object_id__in=ids)
        qs = AuditEntry.objects.filter(cond).order_by("seq")
        total = qs.count()
        intro = ngettext(
            "%(n)s audit trail entry of the lots, their links, holds, shipments, inspections and values, releases, "
            "NCRs and dispositions.",
            "%(n)s audit trail entries of the lots, their links, holds, shipments, inspections and values, "
            "releases, NCRs and dispositions.",
            total,
        ) % {"n": total}
        if not total:
            yield partial(self._audit_chunk, [], intro, True)
            return
        batch, n = [], 0
        for entry in qs.iterator(chunk_size=AUDIT_ROWS_PER_CHUNK):
            batch.append(entry)
            if len(batch) == AUDIT_ROWS_PER_CHUNK:
                yield partial(self._audit_chunk, batch, intro if n == 0 else "", n == 0)
                batch, n = [], n + 1
        if batch:
            yield partial(self._audit_chunk, batch, intro if n == 0 else "", n == 0)

    def _audit_chunk(self, entries, intro, first, meta):
        columns = [
            ("#", 6),
            (_("Time (UTC)"), 10),
            (_("User"), 11),
            (_("Record"), 17),
            (_("Action"), 7),
            (_("Field: old → new"), 34),
            (_("Reason"), 15),
        ]
        rows = []
        for row in entry_rows(entries):
            e = row.entry
            changes = " · ".join(
                f"{str(ch.label).capitalize()}: {_short(ch.old)} → {_short(ch.new)}" for ch in row.changes
            )
            rows.append(
                [
                    e.seq,
                    f"{e.at:%Y-%m-%d %H:%M:%S}",
                    row.who,
                    f"{str(row.record_type).capitalize()} {e.object_repr}",
                    row.action_label,
                    changes,
                    e.reason,
                ]
            )
        if not rows:
            rows.append(("group", _("No audit trail entries.")))
        return table_part(
            heading=_("Audit trail of every record involved") if first else "",
            intro=intro,
            columns=columns,
            rows=rows,
            meta=meta,
        )


def _short(value) -> str:
    if value is None:
        return "∅"
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def build_lot_bundle(params: dict, user) -> dict:
    """Report build (the cover page as the reports page and checks see it); the export job runs
    run_lot_bundle for the full bundle."""
    lot = lot_for_bundle(params.get("lot", ""), user)
    bundle = LotBundle(lot, user)
    return {
        "title": _("Everything about lot %(code)s") % {"code": lot.code},
        "site_id": lot.site_id,
        "effective_params": {"lot": lot.code},
        "param_rows": [(_("Lot"), lot.code)],
        "body": bundle.summary(),
    }


def make_lot_bundle(*, lot: Lot, user, progress=None, language_params=None):
    bundle = LotBundle(lot, user)
    title = _("Everything about lot %(code)s") % {"code": lot.code}
    return assemble(
        bundle.sections(),
        title=title,
        kind=PackKind.LOT_BUNDLE,
        subject=lot.code,
        site=lot.site,
        user=user,
        params={"lot": lot.code},
        key="packs.lot_bundle",
        prefix="LOT",
        progress=progress,
        param_rows=[(_("Lot"), lot.code), (_("Part"), str(lot.part)), (_("Site"), str(lot.site))],
    )


def run_lot_bundle(job, user, progress):
    lot = lot_for_bundle(job.params.get("lot", ""), user)
    stored, _row = make_lot_bundle(lot=lot, user=user, progress=progress)
    return stored
