"""Thin views: permission declared, call the service, turn a DomainError into a message or form error."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import AccessKind, access_logged, log_access
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.exports import csv_response
from qms.core.idempotency import create_once
from qms.core.scoping import site_scope, system_scope
from qms.core.security import client_ip, rate_limited
from qms.core.views_auth import public, require, require_decision_site, require_site

from . import labels, selectors, services
from .forms import (
    ConsumeForm,
    HoldForm,
    LotImportForm,
    LotReceiveForm,
    ProduceForm,
    ProductionRecordForm,
    ReasonForm,
    RecallApproveForm,
    RecallStartForm,
    RecoveryForm,
    SerialsForm,
    ShipForm,
    WorkOrderForm,
)
from .models import (
    HoldSource,
    LinkKind,
    Lot,
    LotHold,
    LotLink,
    LotStatus,
    Operation,
    PublicTraceProfile,
    Recall,
    RecallCustomer,
    RecallStatus,
    Shipment,
    WorkOrder,
)
from .overlays import lot_actions_for, overlays_for

PUBLIC_RATE_PER_MINUTE = 60


def _lot_or_404(request, code, perm="lots.view"):
    lot = Lot.objects.select_related("part", "site", "supplier", "work_order").filter(code=code).first()
    if lot is None:
        raise Http404
    require_site(request, perm, lot.site)
    return lot


# ------------------------------------------------------------------------------------------- lots


@require("lots.view")
def lot_list(request):
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    qs = selectors.lots_for_list(site_ids=policy.sites_for(request.user, "lots.view"), q=q, status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/lot_list.html",
        {
            "page_obj": page,
            "lots": page.object_list,
            "q": q,
            "status": status,
            "statuses": LotStatus.choices,
            "can_receive": policy.can(request.user, "lots.receive"),
            "can_import": policy.can(request.user, "lots.import"),
        },
    )


def _history_offers(user) -> tuple[bool, list]:
    """May `user` import released lots as history at one of the sites they import lots for? When not, each
    such site's offer (why not, who can act), as the door (`lot.release_history`) decides it per row's site."""
    from qms.core.models import Site

    sites = Site.objects.filter(pk__in=policy.sites_for(user, "lots.import")).order_by("code")
    offers = [(site, policy.decision_offer(user, "lot.release_history", site)) for site in sites]
    if any(offer["may"] for _site, offer in offers):
        return True, []
    return False, offers


@require("lots.import")
@create_once
def lot_import(request):
    """Import lots from CSV/XLSX (the kernel's import, kind `lots`), with the history import of released
    lots for people with release authority: e-signed here, released through `lot.release_history`."""
    from qms.core import importing
    from qms.core.importing import import_file
    from qms.core.registries import registry

    may_release, history_offers = _history_offers(request.user)
    form = LotImportForm(request.POST or None, request.FILES or None, request=request, may_release=may_release)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        history = bool(form.cleaned_data.get("release_as_history"))
        report = import_file(
            kind="lots",
            filename=upload.name,
            content=upload.read(importing.max_bytes() + 1),  # one byte past the limit is enough to refuse
            dry_run=form.cleaned_data["dry_run"],
            user=request.user,
            options={
                "release_as_history": history,
                "credential": form.credential,
                "max_history": settings.QMS_HISTORY_IMPORT_PAGE_MAX,
            },
        )
        if report.ok and not report.dry_run:
            messages.success(
                request,
                _("Imported %(n)s lots; those marked released were released as a history import, signed by you.")
                % {"n": report.written}
                if history
                else _("Imported %(n)s rows.") % {"n": report.written},
            )
            return redirect("traceability:lots")
        if report.ok:
            messages.info(
                request, _("All %(n)s rows are valid. Untick “dry run” to import them.") % {"n": report.row_count}
            )
        else:
            messages.error(request, _("Nothing was imported: fix the rows listed below and upload the file again."))
    return render(
        request,
        "traceability/lot_import.html",
        {
            "form": form,
            "report": report,
            "columns": registry.import_kinds["lots"].columns_help(),
            "history_offers": history_offers,
        },
    )


@require("lots.view")
@access_logged("traceability.lot")
def lot_detail(request, code):
    lot = _lot_or_404(request, code)
    serials_form = None
    if request.method == "POST":
        require_site(request, "lots.produce", lot.site)
        serials_form = SerialsForm(request.POST)
        if serials_form.is_valid():
            try:
                created = services.serials_create(
                    lot=lot, serials=serials_form.cleaned_data["serials"], user=request.user
                )
            except DomainError as exc:
                serials_form.add_error("serials", str(exc))
            else:
                messages.success(request, _("%(n)s serial numbers added.") % {"n": len(created)})
                return redirect("traceability:lot", code=lot.code)
    holds = list(LotHold.objects.filter(lot=lot).select_related("placed_by", "lifted_by").order_by("-placed_at"))
    parents = list(LotLink.objects.filter(child=lot).select_related("parent", "parent__part").order_by("parent__code"))
    children = list(LotLink.objects.filter(parent=lot).select_related("child", "child__part").order_by("child__code"))
    shipments = list(Shipment.objects.filter(lot=lot).select_related("customer"))
    serials = list(lot.serials.all()[:200])
    remaining = (
        lot.quantity
        - sum(x.quantity for x in children if x.kind != LinkKind.SPLIT)
        - sum(s.quantity for s in shipments)
    )
    site = lot.site
    can_produce = policy.can(request.user, "lots.produce", site)
    return render(
        request,
        "traceability/lot_detail.html",
        {
            "lot": lot,
            "holds": holds,
            "active_holds": [h for h in holds if h.lifted_at is None],
            "parents": parents,
            "children": children,
            "shipments": shipments,
            "serials": serials,
            "remaining": remaining,
            "overlays": overlays_for([lot.pk]).get(lot.pk, []),
            "lot_actions": lot_actions_for(request.user, lot),
            "ship_verdict": services.lot_can_ship(lot=lot),
            "hold_form": HoldForm(),
            "reason_form": ReasonForm(),
            "ship_form": ShipForm(),
            # the forms only for someone the doors would let decide; anyone else reads why not and who can
            "may_release": policy.can_decide(request.user, "lot.release", site),  # the release page says the rest
            "reject_offer": policy.decision_offer(request.user, "lot.reject", site)
            if lot.status == "quarantine"
            else None,
            "hold_offer": policy.decision_offer(request.user, "lot.hold", site),
            "lift_offer": policy.decision_offer(request.user, "lot.hold_lift", site)
            if any(h.lifted_at is None and h.source == HoldSource.MANUAL for h in holds)
            else None,
            "can_ship": policy.can(request.user, "lots.ship", site),
            "can_recall": policy.can(request.user, "recall.manage", site),
            "can_produce": can_produce,
            "serials_form": serials_form or (SerialsForm() if can_produce else None),
            "serial_count": lot.serials.count(),
            "public_url": request.build_absolute_uri(reverse("traceability:public", args=[lot.public_token]))
            if lot.public_token
            else "",
        },
    )


@require("lots.view")
def lot_label(request, code):
    lot = _lot_or_404(request, code)
    serials = list(lot.serials.all()[:100])
    public_url = (
        request.build_absolute_uri(reverse("traceability:public", args=[lot.public_token])) if lot.public_token else ""
    )
    return render(
        request,
        "traceability/label.html",
        {
            "lot": lot,
            "qr": labels.qr_svg(lot.code, title=lot.code),
            "barcode": labels.code128_svg(lot.code),
            "consumer_qr": labels.qr_svg(public_url) if public_url else "",
            "public_url": public_url,
            "serial_labels": [
                {"serial": s.serial, "qr": labels.qr_svg(s.serial, scale=3), "barcode": labels.code128_svg(s.serial)}
                for s in serials
            ],
        },
    )


@require("lots.receive")
@create_once
def lot_receive(request):
    site_ids = policy.sites_for(request.user, "lots.receive")
    form = LotReceiveForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            lot = services.lot_receive(
                site=d["site"],
                part=d["part"],
                supplier=d["supplier"],
                supplier_lot_code=d["supplier_lot_code"],
                quantity=d["quantity"],
                code=d["code"],
                expires_on=d["expires_on"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Lot %(c)s received into quarantine.") % {"c": lot.code})
            return redirect("traceability:lot", code=lot.code)
    return render(request, "traceability/form_page.html", {"form": form, "title": _("Receive a purchased lot")})


@require_POST
@require("lots.view")
@create_once
def lot_action(request, code, action):
    lot = _lot_or_404(request, code)
    try:
        if action == "release":
            # One door per decision: a release is e-signed on the release page, never a bare POST here.
            raise DomainError(
                _(
                    "A lot is released only by an e-signed release on its release page (by someone who did not inspect it)."
                )
            )
        elif action == "reject":
            require_decision_site(request, "lot.reject", lot.site)
            form = ReasonForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Give the reason for rejecting the lot."))
            services.lot_reject(lot=lot, user=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Lot rejected."))
        elif action == "hold":
            require_decision_site(request, "lot.hold", lot.site)
            form = HoldForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Give the reason for the hold."))
            d = form.cleaned_data
            services.lot_hold_place(
                lot=lot, source=HoldSource.MANUAL, reference=d["reference"], reason=d["reason"], user=request.user
            )
            messages.success(request, _("Hold placed."))
        elif action == "lift":
            require_decision_site(request, "lot.hold_lift", lot.site)
            hold_id = request.POST.get("hold", "")
            if not (hold_id.isascii() and hold_id.isdigit()):
                raise Http404(_("Choose the hold to lift."))
            hold = get_object_or_404(LotHold, pk=hold_id, lot=lot)
            services.lot_hold_lift(hold=hold, reason=request.POST.get("reason", ""), user=request.user)
            messages.success(request, _("Hold lifted."))
        elif action == "ship":
            require_site(request, "lots.ship", lot.site)
            form = ShipForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Choose the customer and the quantity."))
            d = form.cleaned_data
            services.shipment_create(
                lot=lot,
                customer=d["customer"],
                quantity=d["quantity"],
                delivery_note=d["delivery_note"],
                serials=[s.strip() for s in d["serials"].splitlines() if s.strip()],
                user=request.user,
            )
            messages.success(request, _("Shipment recorded."))
        elif action == "public":
            require_site(request, "lots.produce", lot.site)
            services.lot_public_enable(lot=lot, user=request.user)
            messages.success(request, _("Consumer QR code issued."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("traceability:lot", code=lot.code)


# ------------------------------------------------------------------------------------------ trace


@require("trace.view")
def trace_page(request):
    code = request.GET.get("lot", "").strip()
    ctx = {"code": code}
    if code:
        lot = selectors.resolve_code(code)
        if lot is None:
            ctx["not_found"] = True
        else:
            require_site(request, "trace.view", lot.site)
            started = timezone.now()
            view = selectors.trace_view(lot)
            ctx.update(view)
            ctx["graph"] = selectors.graph_layout(view)
            ctx["elapsed_ms"] = round((timezone.now() - started).total_seconds() * 1000)
            ctx["can_recall"] = policy.can(request.user, "recall.manage", lot.site)
    return render(request, "traceability/trace.html", ctx)


@require("trace.view")
def trace_csv(request, code):
    lot = _lot_or_404(request, code, "trace.view")
    view = selectors.trace_view(lot)
    log_access(request=request, kind=AccessKind.EXPORT, obj=lot, report_key="traceability.trace", format="csv")
    header = [
        "direction",
        "depth",
        "lot",
        "via",
        "quantity",
        "unit",
        "part",
        "status",
        "holds",
        "supplier",
        "supplier_lot",
        "customers",
    ]
    codes = {r["lot_id"]: r["code"] for r in view["backward"] + view["forward"]} | {lot.pk: lot.code}
    rows = [
        [
            direction,
            r["depth"],
            r["code"],
            codes.get(r["via_id"], ""),
            r["quantity"],
            r["qty_unit"],
            r["part"].number if r["part"] else "",
            r["status"],
            "; ".join(f"{h.source} {h.reference}".strip() for h in r["holds"]),
            r["lot"].supplier.code if r["lot"].supplier else "",
            r["supplier_lot_code"],
            "; ".join(f"{s['customer'].code} {s['quantity']}" for s in r["shipments"]),
        ]
        for direction, part_rows in (("backward", view["backward"]), ("forward", view["forward"]))
        for r in part_rows
    ]
    return csv_response(f"trace-{lot.code}", header, rows)


# ---------------------------------------------------------------------------------------- recalls


@require("recall.view")
@create_once
def recall_list(request):
    can_start = policy.can(request.user, "recall.manage")
    if request.method == "POST" and not can_start:
        raise PermissionDenied("recall.manage")
    form = RecallStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["lot_code"]:
                lot = selectors.resolve_code(d["lot_code"])
                if lot is None:
                    raise DomainError(_("No lot or serial has the code “%(c)s”.") % {"c": d["lot_code"]})
                require_site(request, "recall.manage", lot.site)
                recall = services.recall_start(
                    lot=lot,
                    user=request.user,
                    reason=d["reason"],
                    source="complaint" if d["complaint"] else "lot",
                    reference=d["complaint"],
                    is_mock=d["is_mock"],
                )
            else:
                from suppliers.models import Supplier

                supplier = Supplier.objects.filter(code=d["supplier_code"]).first()
                if supplier is None:
                    raise DomainError(_("No supplier has the code “%(c)s”.") % {"c": d["supplier_code"]})
                recall = services.recall_start_for_supplier_lot(
                    supplier=supplier,
                    supplier_lot_code=d["supplier_lot_code"],
                    user=request.user,
                    reason=d["reason"],
                    is_mock=d["is_mock"],
                )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Recall %(c)s started; lots in stock are on hold.") % {"c": recall.code})
            return redirect("traceability:recall", code=recall.code)
    recalls = Recall.objects.filter(site_id__in=policy.sites_for(request.user, "recall.view")).select_related("site")
    page = Paginator(recalls, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/recall_list.html",
        {"form": form if can_start else None, "page_obj": page, "recalls": page.object_list},
    )


@require("recall.manage")
def recall_letter(request, code, rc_id):
    """The stored letter sent to one customer of a recall (the generated report, checked against its
    SHA-256 before it leaves)."""
    from compliance.pdf import stored_report_bytes

    recall = get_object_or_404(Recall.objects.select_related("site"), code=code)
    require_site(request, "recall.manage", recall.site)
    rc = get_object_or_404(
        RecallCustomer.objects.select_related("customer", "letter"), pk=rc_id, recall=recall, letter__isnull=False
    )
    data = stored_report_bytes(rc.letter)
    if data is None:
        messages.error(
            request,
            _("The stored letter %(number)s is missing or does not match its SHA-256: it is not an authentic copy.")
            % {"number": rc.letter.document_number},
        )
        return redirect("traceability:recall", code=recall.code)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{rc.letter.document_number}.pdf"'
    response["X-PDF-SHA256"] = rc.letter.sha256
    return response


RECALL_DECISIONS = ("recall.approve", "recall.close")


@require("recall.view", or_deciding=RECALL_DECISIONS)
@access_logged("traceability.recall")
def recall_detail(request, code):
    recall = get_object_or_404(Recall.objects.select_related("site", "created_by"), code=code)
    require_site(request, "recall.view", recall.site, or_deciding=RECALL_DECISIONS)
    approve_form = RecallApproveForm(None, request=request, meaning="approved")
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("approve", "close"):  # the decisions' authority is their doors' own (per site)
            require_site(request, "recall.manage", recall.site)
        try:
            if action == "approve":
                approve_form = RecallApproveForm(request.POST, request=request, meaning="approved")
                if approve_form.is_valid():
                    services.recall_approve(
                        recall=recall,
                        user=request.user,
                        credential=approve_form.credential,
                        reason=approve_form.cleaned_data.get("reason", ""),
                    )
                    messages.success(request, _("Recall approved; the scope is frozen."))
                    return redirect("traceability:recall", code=recall.code)
            elif action == "refresh":
                services.recall_refresh_scope(recall=recall, user=request.user)
                messages.success(request, _("Scope recomputed."))
                return redirect("traceability:recall", code=recall.code)
            elif action == "notify":
                services.recall_notify(recall=recall, user=request.user)
                messages.success(request, _("Customer notifications are being sent."))
                return redirect("traceability:recall", code=recall.code)
            elif action == "recovery":
                rc = get_object_or_404(RecallCustomer, pk=request.POST.get("rc"), recall=recall)
                form = RecoveryForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_("Enter the recovered quantity."))
                services.recall_record_recovery(
                    recall_customer=rc, quantity=form.cleaned_data["quantity"], user=request.user
                )
                messages.success(request, _("Recovered quantity recorded."))
                return redirect("traceability:recall", code=recall.code)
            elif action == "close":
                services.recall_close(recall=recall, user=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("Recall closed."))
                return redirect("traceability:recall", code=recall.code)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("traceability:recall", code=recall.code)
    scope_lots = list(recall.scope_lots.select_related("lot", "lot__part", "hold").order_by("depth", "lot__code")[:500])
    return render(
        request,
        "traceability/recall_detail.html",
        {
            "recall": recall,
            "scope_lots": scope_lots,
            "scope_count": recall.scope_lots.count(),
            "in_stock_count": recall.scope_lots.filter(in_stock=True).count(),
            "customers": list(recall.customers.select_related("customer", "letter")),
            "effect": services.recall_effectiveness(recall),
            "approve_form": approve_form,
            "signatures": signatures_with_validity(recall),
            "offer": policy.decision_offer(
                request.user,
                "recall.approve",
                recall.site,
                involved={"authored": recall.created_by_id},
                what=_("this recall"),
            ),
            "can_manage": policy.can(request.user, "recall.manage", recall.site),
            "close_offer": policy.decision_offer(request.user, "recall.close", recall.site)
            if recall.status == RecallStatus.IN_PROGRESS
            else None,
            "statuses": RecallStatus,
        },
    )


# ------------------------------------------------------------------------------------ work orders


@require("lots.view")
def work_order_list(request):
    site_ids = policy.sites_for(request.user, "lots.view")
    form = WorkOrderForm(request.POST or None, site_ids=policy.sites_for(request.user, "lots.produce"))
    if request.method == "POST":
        if not policy.can(request.user, "lots.produce"):
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            try:
                wo = services.work_order_create(
                    site=d["site"],
                    part=d["part"],
                    code=d["code"],
                    line=d["line"],
                    quantity_planned=d["quantity_planned"] or 0,
                    operations=[o.strip() for o in d["operations"].splitlines() if o.strip()],
                    user=request.user,
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("traceability:work_order", code=wo.code)
    qs = WorkOrder.objects.filter(site_id__in=site_ids).select_related("site", "part", "line")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/work_order_list.html",
        {
            "page_obj": page,
            "work_orders": page.object_list,
            "form": form,
            "can_produce": policy.can(request.user, "lots.produce"),
        },
    )


@require("lots.view")
@access_logged("traceability.workorder")
def work_order_detail(request, code):
    wo = get_object_or_404(WorkOrder.objects.select_related("site", "part", "line"), code=code)
    require_site(request, "lots.view", wo.site)
    record_form = consume_form = None
    if request.method == "POST":
        require_site(request, "lots.produce", wo.site)
        action = request.POST.get("action", "")
        if action == "record":
            record_form = ProductionRecordForm(request.POST, work_order=wo)
            if _record_production(request, wo, record_form):
                messages.success(request, _("Production record saved."))
                return redirect("traceability:work_order", code=wo.code)
        elif action == "consume":
            consume_form = ConsumeForm(request.POST, work_order=wo)
            if _consume(request, wo, consume_form):
                messages.success(request, _("Consumption recorded."))
                return redirect("traceability:work_order", code=wo.code)
        else:
            try:
                if action in ("setup", "run", "complete", "cancel"):
                    services.work_order_advance(work_order=wo, step=action, user=request.user)
                elif action in ("op_start", "op_done"):
                    op = get_object_or_404(Operation, pk=request.POST.get("op"), work_order=wo)
                    if action == "op_start":
                        services.operation_start(operation=op, user=request.user)
                    else:
                        services.operation_complete(operation=op, user=request.user)
                elif action == "produce":
                    form = ProduceForm(request.POST)
                    if not form.is_valid():
                        raise DomainError(_("Enter the quantity produced."))
                    services.lot_produce(
                        work_order=wo,
                        quantity=form.cleaned_data["quantity"],
                        code=form.cleaned_data["code"],
                        user=request.user,
                    )
                messages.success(request, _("Saved."))
            except DomainError as exc:
                messages.error(request, str(exc))
            return redirect("traceability:work_order", code=wo.code)
    outputs = list(wo.output_lots.select_related("part"))
    links = list(wo.links.select_related("parent", "child"))
    records = list(wo.records.select_related("operation", "equipment").prefetch_related("parameters", "operators"))
    can_produce = policy.can(request.user, "lots.produce", wo.site)
    if can_produce:
        record_form = record_form or ProductionRecordForm(
            work_order=wo, initial={"started_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
        consume_form = consume_form or ConsumeForm(work_order=wo)
    return render(
        request,
        "traceability/work_order_detail.html",
        {
            "wo": wo,
            "operations": list(wo.operations.select_related("equipment")),
            "outputs": outputs,
            "links": links,
            "records": records,
            "produce_form": ProduceForm(),
            "consume_form": consume_form,
            "record_form": record_form,
            "can_produce": can_produce,
        },
    )


def _record_production(request, wo, form) -> bool:
    """Bound `form` → production_record_create; refusals become form errors."""
    if not form.is_valid():
        return False
    d = form.cleaned_data
    try:
        services.production_record_create(
            work_order=wo,
            user=request.user,
            started_at=d["started_at"],
            ended_at=d["ended_at"],
            operation=d["operation"],
            shift=d["shift"],
            operators=list(d["operators"]),
            equipment=d["equipment"],
            parameters=d["parameters"],
            notes=d["notes"],
        )
    except DomainError as exc:
        form.add_error(None, str(exc))
        return False
    return True


def _consume(request, wo, form) -> bool:
    """Bound `form` → lot_consume; the refusal and its reasons become form errors."""
    if not form.is_valid():
        return False
    d = form.cleaned_data
    try:
        lot = selectors.resolve_code(d["lot_code"])
        if lot is None:
            raise DomainError(_("No lot has the code “%(c)s”.") % {"c": d["lot_code"]})
        services.lot_consume(lot=lot, into=d["into"], quantity=d["quantity"], user=request.user, work_order=wo)
    except DomainError as exc:
        form.add_error(None, str(exc))
        return False
    return True


# ------------------------------------------------------------------------------------ public page


@public
def public_trace(request, token):
    """Consumer page opened by the QR code on the pack: no login, only what the plant publishes."""
    # Fails open when the cache (Redis) is down: consumers still see their lot, nothing answers 500.
    if rate_limited(f"trace-public:{client_ip(request) or 'unknown'}", limit=PUBLIC_RATE_PER_MINUTE, window_seconds=60):
        response = render(request, "traceability/public_limited.html", status=429)
        response["Retry-After"] = "60"
        return response
    if not token or len(token) < 16:
        raise Http404
    # The one lookup made across sites: a consumer has no site. Everything after it sees only the lot's site.
    with system_scope():
        lot = Lot.objects.select_related("part", "site").filter(public_token=token).first()
    if lot is None:
        raise Http404
    with site_scope([lot.site_id]):
        return _public_trace_page(request, lot)


def _public_trace_page(request, lot):
    profile = PublicTraceProfile.objects.filter(site=lot.site).first() or PublicTraceProfile(site=lot.site)
    recall = selectors.public_recall(lot)
    ctx = {"lot": lot, "profile": profile, "part": lot.part, "recall": recall}
    if profile.show_shelf_life:
        ctx["shelf_life_days"] = lot.part.shelf_life_days
    if profile.show_release_status:
        ctx["released"] = (
            lot.status in (LotStatus.RELEASED, LotStatus.SHIPPED, LotStatus.CONSUMED)
            and not lot.is_on_hold
            and recall is None
        )
    if profile.show_inspection_summary:
        items = [i for i in overlays_for([lot.pk]).get(lot.pk, []) if i.get("kind") == "inspection"]
        ctx["inspections_total"] = len(items)
        ctx["inspections_passed"] = sum(1 for i in items if i.get("ok") is True)
    if profile.show_origin:
        back = selectors.trace_backward(lot)
        raw_ids = [r["lot_id"] for r in back if r["supplier_id"]]
        origins = {}
        for x in Lot.objects.filter(pk__in=raw_ids).select_related("part", "supplier"):
            origins.setdefault(x.part.name, set()).add(getattr(x.supplier, "country", "") or "")
        ctx["origins"] = [
            {"material": k, "countries": ", ".join(sorted(c for c in v if c))} for k, v in sorted(origins.items())
        ]
    response = render(request, "traceability/public.html", ctx)
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, max-age=60"
    return response
