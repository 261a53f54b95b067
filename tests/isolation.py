"""Shared by the site-isolation walks: the two demo plants with records of every kind, single-site users
of every role, and the table saying which record each URL keyword names.

The demo seed (`seed_demo`) gives BRG (automotive) and FOOD (food) records of every kind; it is built once
per test module inside a transaction that is rolled back at the end of the module.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from qms.core.audit import audit_context
from qms.core.models import Membership, Role, Site, User
from qms.core.scoping import scopes_disabled

PASSWORD = "test-Password-123"


def walk_urls(patterns=None, prefix="", ns=""):
    """(route, "namespace:name", pattern) for every URL pattern except the Django admin."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from walk_urls(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{ns}:{p.name}" if ns else p.name, p


@dataclass
class Plant:
    site: Site
    objects: dict = field(default_factory=dict)  # kind -> one record of that kind at this site
    identifiers: set = field(default_factory=set)  # codes and numbers that must never show at the other site
    users: dict = field(default_factory=dict)  # role -> a user holding only that role, only at this site


def _first(qs):
    return qs.order_by("pk").first()


def _plant(site: Site, other: Site) -> Plant:
    from capa.models import Capa, CapaAction, EffectivenessCheck, Scar
    from inspection.models import (
        Characteristic,
        Inspection,
        InspectionPlan,
        IpqcSchedule,
        LineStop,
        Measurement,
        Station,
        SupplierSwitching,
    )
    from monitoring.models import Alarm, Objective
    from nonconformance.models import Attachment, Complaint, ContainmentAction, DispositionLine, Ncr
    from qms.core.models import Equipment
    from suppliers.models import AslEntry, Certificate, PpapAttachment, PpapElement, PpapSubmission, Supplier
    from traceability.models import Lot, Operation, Recall, RecallCustomer, WorkOrder

    only_here = Supplier.objects.filter(sites=site).exclude(sites=other)
    p = Plant(site=site)
    o = p.objects
    o["lot"] = _first(Lot.objects.filter(site=site))
    o["released_lot"] = _first(Lot.objects.filter(site=site, status="released")) or o["lot"]
    o["work_order"] = _first(WorkOrder.objects.filter(site=site))
    o["operation"] = _first(Operation.objects.filter(work_order__site=site))
    o["recall"] = _first(Recall.objects.filter(site=site))
    o["inspection"] = _first(Inspection.objects.filter(site=site))
    o["plan"] = _first(InspectionPlan.objects.filter(site=site))
    o["characteristic"] = _first(Characteristic.objects.filter(plan__site=site))
    o["switching"] = _first(SupplierSwitching.objects.filter(site=site))
    o["line_stop"] = _first(LineStop.objects.filter(site=site))
    o["ncr"] = _first(Ncr.objects.filter(site=site))
    o["complaint"] = _first(Complaint.objects.filter(site=site))
    o["containment"] = _first(ContainmentAction.objects.filter(ncr__site=site))
    o["disposition_line"] = _first(DispositionLine.objects.filter(disposition__ncr__site=site))
    o["capa"] = _first(Capa.objects.filter(site=site))
    o["capa_action"] = _first(CapaAction.objects.filter(capa__site=site))
    o["effectiveness_check"] = _first(EffectivenessCheck.objects.filter(capa__site=site))
    o["scar"] = _first(Scar.objects.filter(site=site))
    o["supplier"] = _first(only_here)
    o["certificate"] = _first(Certificate.objects.filter(supplier__in=only_here))
    o["asl"] = _first(AslEntry.objects.filter(supplier__in=only_here))
    o["ppap"] = _first(PpapSubmission.objects.filter(supplier__in=only_here))
    o["ppap_element"] = _first(PpapElement.objects.filter(submission__supplier__in=only_here))
    o["ppap_attachment"] = _first(PpapAttachment.objects.filter(element__submission__supplier__in=only_here))
    o["equipment"] = _first(Equipment.objects.filter(site=site))
    o["measurement"] = _first(Measurement.objects.filter(inspection__site=site).exclude(photo="")) or _first(
        Measurement.objects.filter(inspection__site=site)
    )
    o["recall_letter"] = _first(RecallCustomer.objects.filter(recall__site=site, letter__isnull=False))
    o["attachment"] = _first(Attachment.objects.filter(ncr__site=site))
    o["objective"] = _first(Objective.objects.filter(site=site))
    o["station"] = _first(Station.objects.filter(site=site))
    o["schedule"] = _first(IpqcSchedule.objects.filter(site=site))
    o["alarm"] = _first(Alarm.objects.filter(site=site))
    from packs.models import ControlPlan, PackManifest

    o["control_plan"] = _first(ControlPlan.objects.filter(site=site))
    o["pack_manifest"] = _first(PackManifest.objects.filter(site=site))
    from batchrecords.models import Deviation, EbrStep, ExecutedBatchRecord, MasterBatchRecord

    o["mbr"] = _first(MasterBatchRecord.objects.filter(site=site))
    o["ebr"] = _first(ExecutedBatchRecord.objects.filter(site=site))
    o["ebr_step"] = _first(EbrStep.objects.filter(ebr__site=site))
    o["deviation"] = _first(Deviation.objects.filter(site=site))
    from documents.models import Document, DocumentVersion, TrainingTask

    o["document"] = _first(Document.objects.filter(site=site))
    o["document_version"] = _first(DocumentVersion.objects.filter(document__site=site, status="effective"))
    o["training_task"] = _first(TrainingTask.objects.filter(site=site))
    # audits
    from audits.models import Audit, AuditProgramme, ChecklistItem, Finding

    o["audit"] = _first(Audit.objects.filter(site=site))
    o["audit_programme"] = _first(AuditProgramme.objects.filter(site=site))
    o["audit_item"] = _first(ChecklistItem.objects.filter(audit__site=site))
    o["audit_finding"] = _first(Finding.objects.filter(audit__site=site))
    # change control
    from changes.models import ChangeEffectivenessCheck, ChangeRequest, ChangeTask, ImpactItem

    o["change"] = _first(ChangeRequest.objects.filter(site=site))
    o["change_impact"] = _first(ImpactItem.objects.filter(change__site=site))
    o["change_task"] = _first(ChangeTask.objects.filter(change__site=site))
    o["change_check"] = _first(ChangeEffectivenessCheck.objects.filter(change__site=site))

    ids = p.identifiers
    for model in (Lot, WorkOrder, Recall, Inspection, Ncr, Complaint, Capa, Scar, Equipment, Alarm):
        ids.update(model.objects.filter(site=site).values_list("code", flat=True))
    for model in (MasterBatchRecord, ExecutedBatchRecord, Deviation):
        ids.update(model.objects.filter(site=site).values_list("code", flat=True))
    ids.update(Audit.objects.filter(site=site).values_list("code", flat=True))
    ids.update(Finding.objects.filter(audit__site=site).values_list("code", flat=True))
    ids.update(ChangeRequest.objects.filter(site=site).values_list("code", flat=True))
    ids.update(only_here.values_list("code", flat=True))
    ids.update(Document.objects.filter(site=site).values_list("number", flat=True))
    ids.update(only_here.values_list("name", flat=True))
    ids.update(PpapSubmission.objects.filter(supplier__in=only_here).values_list("code", flat=True))
    ids.update(n for n in Certificate.objects.filter(supplier__in=only_here).values_list("number", flat=True) if n)
    return p


def _webhooks(plants, admin) -> None:
    """Each plant's own integration with a webhook subscription and one logged delivery (the demo has none:
    its receivers would not answer)."""
    import uuid

    from api.models import WebhookDelivery, WebhookSubscription
    from api.services import service_account_create

    for code, plant in plants.items():
        acc = service_account_create(
            username=f"iso-wms-{code.lower()}",
            system="wms",
            roles={plant.site: [Role.PRODUCTION_SUPERVISOR]},
            user=admin,
        )
        with audit_context(user=admin, reason="test"):
            sub = WebhookSubscription.objects.create(
                account=acc, event="lot.held", url=f"https://wms.{code.lower()}.example/h", secret="whsec_test"
            )
        plant.objects["webhook"] = sub
        plant.objects["webhook_delivery"] = WebhookDelivery.objects.create(
            subscription=sub, event="lot.held", event_id=uuid.uuid4(), payload={"site": code}
        )


def build_world() -> dict[str, Plant]:
    """Seed both demo plants (plus a BRG mock recall, which the demo lacks) and one single-site user per
    role and plant. Call inside a transaction that is rolled back."""
    from traceability.models import Lot, Recall
    from traceability.services import recall_start

    with scopes_disabled(), override_settings(QMS_DEMO=True):
        call_command("seed_demo", stdout=io.StringIO())
        brg, food = Site.objects.get(code="BRG"), Site.objects.get(code="FOOD")
        qm = User.objects.get(username="qm")
        for site in (brg, food):
            if not Recall.objects.filter(site=site).exists():
                lot = Lot.objects.filter(site=site, status="released").order_by("pk").first()
                recall_start(lot=lot, user=qm, reason="isolation walk", is_mock=True)
        plants = {"BRG": _plant(brg, food), "FOOD": _plant(food, brg)}
        _webhooks(plants, User.objects.get(username="admin"))
        with audit_context(reason="test"):
            for code, plant in plants.items():
                for role in Role.values:
                    user = User(username=f"{code.lower()}_{role}", display_name=f"{code} {role}")
                    user.set_password(PASSWORD)
                    user.save()
                    Membership.objects.create(user=user, site=plant.site, role=role)
                    plant.users[role] = user
    return plants


def world_fixture(django_db_setup, django_db_blocker):
    """Body of a module-scoped fixture: the world, rolled back after the module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# URL keyword arguments naming a record: url name -> list of (kind, kwargs builder). A new URL with
# keyword arguments must be added here, or the walk fails and says so.
def _pk(kind, **extra):
    return kind, lambda o: {"pk": o.pk, **extra}


def _code(kind, name="code", **extra):
    return kind, lambda o: {name: o.code, **extra}


ROUTES: dict[str, list] = {
    "packs:control_plan": [_pk("control_plan")],
    "packs:manifest": [_pk("pack_manifest")],
    "compliance:record_trail": [
        ("ncr", lambda o: {"model": "nonconformance.ncr", "object_id": o.pk}),
        ("lot", lambda o: {"model": "traceability.lot", "object_id": o.pk}),
        ("containment", lambda o: {"model": "nonconformance.containmentaction", "object_id": o.pk}),
        ("capa_action", lambda o: {"model": "capa.capaaction", "object_id": o.pk}),
        ("certificate", lambda o: {"model": "suppliers.certificate", "object_id": o.pk}),
        ("inspection", lambda o: {"model": "inspection.inspection", "object_id": o.pk}),
    ],
    "suppliers:detail": [_pk("supplier")],
    "suppliers:edit": [_pk("supplier")],
    "suppliers:decide": [_pk("supplier", action="suspend")],
    "suppliers:audit_record": [_pk("supplier")],
    "suppliers:certificate_upload": [_pk("supplier")],
    "suppliers:asl_create": [_pk("supplier")],
    "suppliers:ppap_create": [_pk("supplier")],
    "suppliers:certificate_review": [_pk("certificate")],
    "suppliers:certificate_void": [_pk("certificate")],
    "suppliers:certificate_download": [_pk("certificate")],
    "suppliers:asl_decide": [_pk("asl", action="approve")],
    "suppliers:ppap_detail": [_pk("ppap")],
    "suppliers:ppap_submit": [_pk("ppap")],
    "suppliers:ppap_return": [_pk("ppap")],
    "suppliers:ppap_decide": [_pk("ppap", action="approve")],
    "suppliers:ppap_element_review": [_pk("ppap_element")],
    "suppliers:ppap_attach": [_pk("ppap_element")],
    "suppliers:ppap_attachment_download": [_pk("ppap_attachment")],
    "traceability:lot": [_code("lot")],
    "traceability:label": [_code("lot")],
    "traceability:lot_action": [
        _code("lot", action=a) for a in ("release", "reject", "hold", "lift", "ship", "public")
    ],
    "traceability:trace_csv": [_code("lot")],
    "traceability:recall": [_code("recall")],
    "traceability:work_order": [_code("work_order")],
    "inspection:plan": [_pk("plan")],
    "inspection:plan_action": [_pk("plan", action=a) for a in ("approve", "characteristic", "version", "document")],
    "inspection:detail": [_code("inspection")],
    "inspection:record": [_code("inspection")],
    "inspection:judge": [_code("inspection")],
    "inspection:complete": [_code("inspection")],
    "inspection:release": [_code("released_lot", name="lot_code")],
    "inspection:switching_action": [_pk("switching", action=a) for a in ("approve-reduced", "restore", "normal")],
    "inspection:line_stop_correct": [_pk("line_stop")],
    "inspection:handover": [("operation", lambda o: {"operation_id": o.pk})],
    "inspection:photo": [("measurement", lambda o: {"code": o.inspection.code, "pk": o.pk})],
    "core:equipment_calibrate": [_code("equipment")],
    "traceability:recall_letter": [("recall_letter", lambda o: {"code": o.recall.code, "rc_id": o.pk})],
    "nonconformance:attachment_download": [_pk("attachment")],
    "monitoring:objective": [_pk("objective")],
    "monitoring:alarm": [_code("alarm")],
    "monitoring:alarm_acknowledge": [_code("alarm")],
    "monitoring:alarm_resolve": [_code("alarm")],
    "inspection:station_edit": [_pk("station")],
    "inspection:schedule_edit": [_pk("schedule")],
    "inspection:spc_chart": [_pk("characteristic")],
    "inspection:spc_freeze": [_pk("characteristic")],
    "nonconformance:containment_done": [_pk("containment")],
    "nonconformance:disposition_line_void": [_pk("disposition_line")],
    "nonconformance:disposition_line_execute": [_pk("disposition_line")],
    "capa:action_complete": [_pk("capa_action")],
    "capa:effectiveness_record": [_pk("effectiveness_check")],
}
# Integration API v1 (read with the session in the walk; writes need a token and are refused).
for _name in ("lot", "lot_ship_check", "lot_consume_check", "lot_genealogy", "lot_trace", "lot_recall_scope"):
    ROUTES[f"api:{_name}"] = [_code("lot")]
ROUTES["api:lot_coa"] = [_code("released_lot")]
ROUTES["api:webhook"] = [_pk("webhook")]
ROUTES["api:webhook_delivery_replay"] = [("webhook_delivery", lambda d: {"pk": d.subscription_id, "delivery": d.pk})]
ROUTES["api:inspection"] = [_code("inspection")]
ROUTES["api:ncr"] = [_code("ncr")]
ROUTES["api:capa"] = [_code("capa")]
ROUTES["api:supplier"] = [_code("supplier")]
ROUTES["api:work_order"] = [_code("work_order")]
ROUTES["api:production_records"] = [_code("work_order")]
for _name in ("operation_start", "operation_finish"):
    ROUTES[f"api:{_name}"] = [("operation", lambda o: {"code": o.work_order.code, "sequence": o.sequence})]
for _name in ("detail", "open_ncr", "respond", "close", "cancel", "attach", "recall"):
    ROUTES[f"nonconformance:complaint_{_name}"] = [_code("complaint")]
for _name in (
    "ncr_detail",
    "ncr_edit",
    "ncr_containment",
    "containment_add",
    "suspect_stock",
    "attachment_add",
    "ncr_submit_mrb",
    "disposition_line_add",
    "disposition_submit",
    "mrb_decide",
    "ncr_verify",
    "ncr_close",
    "ncr_cancel",
):
    ROUTES[f"nonconformance:{_name}"] = [_code("ncr")]
for _name in ("detail", "edit", "review_record", "obsolete", "requirement", "version_create"):
    ROUTES[f"documents:{_name}"] = [_pk("document")]
for _name in (
    "version",
    "version_edit",
    "version_submit",
    "version_review",
    "version_approve",
    "version_withdraw",
    "version_download",
    "training_instructor",
):
    ROUTES[f"documents:{_name}"] = [_pk("document_version")]
ROUTES["documents:training_acknowledge"] = [_pk("training_task")]
for _name in ("scar_detail", "scar_send", "scar_response", "scar_accept", "scar_reject"):
    ROUTES[f"capa:{_name}"] = [_code("scar")]
for _name in ("capa_detail", "capa_edit", "team_add", "action_add", "actions_close", "capa_close", "capa_cancel"):
    ROUTES[f"capa:{_name}"] = [_code("capa")]
for _name in ("mbr_detail", "mbr_step_add", "mbr_parameter_add", "mbr_material_add", "mbr_new_version", "mbr_approve"):
    ROUTES[f"batchrecords:{_name}"] = [_code("mbr")]
for _name in ("ebr_detail", "ebr_dispense", "ebr_yield", "ebr_complete", "ebr_review"):
    ROUTES[f"batchrecords:{_name}"] = [_code("ebr")]
for _name in ("ebr_step_perform", "ebr_step_verify"):
    ROUTES[f"batchrecords:{_name}"] = [("ebr_step", lambda o: {"code": o.ebr.code, "pk": o.pk})]
for _name in ("deviation_detail", "deviation_assess", "deviation_lot_add", "deviation_capa", "deviation_approve"):
    ROUTES[f"batchrecords:{_name}"] = [_code("deviation")]

# audits
ROUTES["audits:audit_create"] = [_pk("audit_programme")]
ROUTES["audits:item_record"] = [_pk("audit_item")]
ROUTES["audits:finding_assign"] = [_pk("audit_finding")]
ROUTES["audits:finding_close"] = [_pk("audit_finding")]
for _name in ("audit_detail", "audit_start", "finding_create", "audit_complete", "audit_close", "audit_cancel"):
    ROUTES[f"audits:{_name}"] = [_code("audit")]
# change control
ROUTES["changes:impact_set"] = [_pk("change_impact")]
for _name in ("task_complete", "task_ppap", "task_cancel"):
    ROUTES[f"changes:{_name}"] = [_pk("change_task")]
ROUTES["changes:effectiveness"] = [_pk("change_check")]
for _name in (
    "change_detail",
    "change_submit",
    "impact_suggest",
    "impact_add",
    "assessment",
    "board_sign",
    "task_add",
    "implemented",
    "output_link",
    "change_close",
    "change_cancel",
):
    ROUTES[f"changes:{_name}"] = [_code("change")]

# URLs with keyword arguments that do not name a site's record, or whose walk lives elsewhere.
NOT_RECORD_ROUTES = {
    "core:master_data_kind",  # a kind of master data: walked as a list page per kind
    "core:part_cost",  # a part is master data shared by every site, not a site's record
    "compliance:report_pdf",  # every registered report is run with the other site's parameters
    "compliance:generated_download",  # tests/test_site_isolation_compliance.py
    "traceability:public",  # the consumer page is public by design (scoped to the lot's own site)
    "core:password_reset_confirm",  # a signed token, no record of a site
    "monitoring:export",  # a kind of CSV: walked as a list page per kind
    "monitoring:import",  # idem
    "compliance:export_detail",  # a user's own export job (stream "access")
    "compliance:export_download",  # idem
    "api:account",  # a service account: the administrator's page, limited to the sites they manage
}

# List pages opened with a query naming the other site's record (kind, url name, query builder).
QUERIES = [
    ("lot", "portal:scan", lambda o: {"q": o.code}),
    ("ncr", "portal:scan", lambda o: {"q": o.code}),
    ("capa", "portal:scan", lambda o: {"q": o.code}),
    ("inspection", "portal:scan", lambda o: {"q": o.code}),
    ("supplier", "portal:scan", lambda o: {"q": o.code}),
    ("lot", "traceability:trace", lambda o: {"lot": o.code}),
    ("lot", "traceability:lots", lambda o: {"q": o.code}),
    ("ncr", "nonconformance:ncr_list", lambda o: {"q": o.code}),
    ("ncr", "capa:capa_create", lambda o: {"ncr": o.code}),
    ("complaint", "capa:capa_create", lambda o: {"complaint": o.code}),
    ("ncr", "capa:scar_create", lambda o: {"ncr": o.code}),
    ("supplier", "suppliers:list", lambda o: {"q": o.code}),
    ("lot", "suppliers:list", lambda o: {"site": o.site_id}),
    ("lot", "suppliers:scorecards", lambda o: {"site": o.site_id}),
    ("capa", "capa:capa_list", lambda o: {"q": o.code}),
    ("ebr", "portal:scan", lambda o: {"q": o.code}),
    ("deviation", "portal:scan", lambda o: {"q": o.code}),
    ("ebr", "batchrecords:index", lambda o: {"q": o.code}),
    ("deviation", "batchrecords:deviation_list", lambda o: {"q": o.code}),
    ("ebr", "batchrecords:deviation_create", lambda o: {"ebr": o.code}),
    ("document", "documents:list", lambda o: {"q": o.number, "status": "all"}),
    ("document", "documents:training_matrix", lambda o: {"site": o.site_id}),
    ("document", "documents:training_records", lambda o: {"site": o.site_id, "document": o.pk}),
    ("document", "documents:settings", lambda o: {"site": o.site_id}),
    ("audit", "portal:scan", lambda o: {"q": o.code}),
    ("change", "portal:scan", lambda o: {"q": o.code}),
    ("change", "changes:change_list", lambda o: {"q": o.code}),
]


def leaked(identifiers, text: str, *, allowed=()) -> list[str]:
    """The identifiers of the other site that appear in `text` as whole tokens."""
    found = []
    for ident in identifiers:
        if not ident or ident in allowed or len(ident) < 4:
            continue
        if re.search(r"(?<![\w-])" + re.escape(ident) + r"(?![\w-])", text):
            found.append(ident)
    return sorted(found)
