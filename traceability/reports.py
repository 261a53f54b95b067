"""Registered reports: trace of a lot and recall report (both languages), plus the customer recall letter."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from compliance.reports import Report, ReportError, ReportParam, register_report

from . import selectors
from .models import Lot, LotLink, Recall


def default_trace_lot() -> Lot | None:
    """The most recent lot made from other lots (a finished lot of the demo), else the most recent lot."""
    child = LotLink.objects.order_by("-child_id").values_list("child_id", flat=True).first()
    if child:
        return Lot.objects.filter(pk=child).first()
    return Lot.objects.order_by("-created_at", "-id").first()


def build_trace(params, user) -> dict:
    code = params.get("lot")
    lot = Lot.objects.filter(code=code).first() if code else default_trace_lot()
    if lot is None:
        raise ReportError(_("No lot has the code “%(c)s”. Give an existing lot code.") % {"c": code or ""})
    view = selectors.trace_view(lot)
    return {
        **view,
        "title": _("Trace of lot %(code)s") % {"code": lot.code},
        "effective_params": {"lot": lot.code},
        "param_rows": [(_("Lot"), lot.code)],
        "site_id": lot.site_id,
    }


def _latest_recall():
    return Recall.objects.order_by("-started_at", "-id").first()


def build_recall(params, user) -> dict:
    from compliance.signatures import signatures_with_validity

    from .services import recall_effectiveness

    code = params.get("recall")
    recall = Recall.objects.filter(code=code).first() if code else _latest_recall()
    if recall is None:
        raise ReportError(_("No recall has the number “%(c)s”.") % {"c": code or ""})
    scope_lots = list(recall.scope_lots.select_related("lot", "lot__part", "hold"))
    return {
        "recall": recall,
        "scope_lots": scope_lots,
        "customers": list(recall.customers.select_related("customer")),
        "effect": recall_effectiveness(recall),
        "signatures": signatures_with_validity(recall),
        "title": (_("Mock recall report %(code)s") if recall.is_mock else _("Recall report %(code)s"))
        % {"code": recall.code},
        "effective_params": {"recall": recall.code},
        "site_id": recall.site_id,
        "param_rows": [(_("Recall"), recall.code)],
    }


def recall_letter_pdf(*, recall, recall_customer, language: str) -> bytes:
    """The notice to one customer, in the customer's language."""
    from compliance.pdf import html_to_pdf

    with translation.override(language):
        html = render_to_string(
            "traceability/pdf/recall_letter.html",
            {
                "recall": recall,
                "rc": recall_customer,
                "lots": [c.strip() for c in recall_customer.lots.split(",") if c.strip()],
                "today": timezone.localdate(),
                "language": language,
            },
        )
    return html_to_pdf(html)


def register() -> None:
    register_report(
        Report(
            key="traceability.trace",
            title=_lazy("Lot trace (backward and forward)"),
            template="traceability/pdf/trace.html",
            build=build_trace,
            params=[ReportParam("lot", help=_lazy("lot code (default: the most recent finished lot)"))],
            perm="trace.view",
            document_prefix="TRC",
            background=True,  # a trace grows with the genealogy
        )
    )
    register_report(
        Report(
            key="traceability.recall",
            title=_lazy("Recall report"),
            template="traceability/pdf/recall.html",
            build=build_recall,
            params=[ReportParam("recall", help=_lazy("recall number (default: the latest)"))],
            perm="recall.manage",
            document_prefix="RCL",
        )
    )
