"""Registered report: the NCR with its MRB disposition and signatures (both languages)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from compliance.signatures import signatures_with_validity, signatures_with_validity_many
from qms.core import policy


def build_ncr(params: dict, user) -> dict:
    from .models import Ncr
    from .selectors import decisions_with_signatures, disposition_for, ncr_by_code

    code = params.get("ncr")
    if not code:
        site_ids = policy.sites_for(user, "ncr.view") if user is not None else None
        qs = Ncr.objects.all() if site_ids is None else Ncr.objects.filter(site_id__in=site_ids)
        latest = qs.order_by("-created_at", "-pk").values_list("code", flat=True).first()
        if latest is None:
            raise ReportError(_("There is no NCR yet."))
        code = latest
    ncr = ncr_by_code(code)
    if ncr is None:
        raise ReportError(_("No NCR has the number %(code)s.") % {"code": code})
    if user is not None and not policy.can(user, "ncr.view", ncr.site):
        raise ReportError(_("You cannot see NCRs of site %(site)s.") % {"site": ncr.site.code})
    disposition = disposition_for(ncr)
    lines = [line for line in disposition.lines.all() if not line.voided] if disposition else []
    decisions = []
    if disposition:
        found = decisions_with_signatures(disposition)
        states = signatures_with_validity_many([d["decision"] for d in found])
        decisions = []
        for d in found:
            sig = d["signature"]
            valid = sig is not None and any(s.pk == sig.pk and ok for s, ok in states.get(d["decision"].pk, []))
            decisions.append({**d, "valid": valid})
    return {
        "title": _("Nonconformance report %(code)s") % {"code": ncr.code},
        "site_id": ncr.site_id,
        "ncr": ncr,
        "disposition": disposition,
        "lines": lines,
        "decisions": decisions,
        "signatures": signatures_with_validity(ncr),
    }


def register() -> None:
    register_report(
        Report(
            key="nonconformance.ncr",
            title=gettext_lazy("Nonconformance report (NCR)"),
            template="nonconformance/pdf/ncr.html",
            build=build_ncr,
            params=[ReportParam("ncr", help=gettext_lazy("NCR number; the latest when empty"))],
            perm="ncr.view",
            document_prefix="NCR",
        )
    )
