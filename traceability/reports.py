"""Registered reports: trace of a lot and recall report (both languages), plus the customer recall letter."""

from __future__ import annotations

from django.utils import timezone
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


def build_recall_letter(params, user) -> dict:
    """The notice to one customer of a recall: the product and lots delivered to it, the sending company
    (the recalling site's name and address) and whom to contact there."""
    from django.conf import settings

    from .models import RecallCustomer

    code, customer = params.get("recall"), params.get("customer")
    recall = Recall.objects.select_related("site").filter(code=code).first() if code else _latest_recall()
    if recall is None:
        raise ReportError(_("No recall has the number “%(c)s”.") % {"c": code or ""})
    customers = RecallCustomer.objects.filter(recall=recall).select_related("customer")
    rc = customers.filter(customer__code=customer).first() if customer else customers.first()
    if rc is None:
        raise ReportError(
            _("Recall %(r)s has no customer “%(c)s”.") % {"r": recall.code, "c": customer or ""}, field="customer"
        )
    codes = [c.strip() for c in rc.lots.split(",") if c.strip()]
    lots = list(Lot.objects.filter(code__in=codes).select_related("part").order_by("code"))
    site = recall.site
    return {
        "recall": recall,
        "rc": rc,
        "lots": lots,
        "products": sorted({lot.part for lot in lots}, key=lambda p: p.number),
        "site": site,
        "contact": {
            "name": site.contact_name,
            "phone": site.contact_phone,
            "email": site.contact_email or settings.DEFAULT_FROM_EMAIL,
        },
        "today": timezone.localdate(),
        "title": (_("Recall notice %(code)s (drill)") if recall.is_mock else _("Recall notice %(code)s"))
        % {"code": recall.code},
        "effective_params": {"recall": recall.code, "customer": rc.customer.code},
        "param_rows": [(_("Recall"), recall.code), (_("Customer"), f"{rc.customer.code} {rc.customer.name}")],
    }


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
    register_report(
        Report(
            key="traceability.recall_letter",
            title=_lazy("Recall letter to a customer"),
            template="traceability/pdf/recall_letter.html",
            build=build_recall_letter,
            params=[
                ReportParam("recall", help=_lazy("recall number (default: the latest)")),
                ReportParam("customer", help=_lazy("customer code (default: the first customer of the recall)")),
            ],
            perm="recall.manage",
            document_prefix="RLT",
        )
    )
