"""Issue 9, item 3: a page never offers a form the user will be refused; it says why not and who can act.

Every decision of `qms.core.policy.DECISIONS` has a case here: a record in the state where the decision is
due, the page that offers it and what marks its form (the form's action URL or its submit field). For each:
(1) someone who holds the permission but whom the door refuses (the record's author, uploader, submitter or
executor, or, for decisions no part bars, someone outside the site's configured authority) reads the page
without the form and with the note naming who can act; (2) an eligible person sees the form; (3) a role
without the permission (auditor, inspector) sees no form. A decision added to DECISIONS without a case here
fails `test_every_decision_has_a_page_case`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.urls import reverse

from qms.core import policy
from qms.core.audit import audit_context
from qms.core.models import DecisionAuthority, Role

pytestmark = pytest.mark.django_db

PASSWORD_FIELD = 'name="password"'

# Decisions no page offers, with the reason.
NO_PAGE = {
    "lot.release_auto": "taken by the system actor after an accepted IQC, never from a page",
    "audit.finding_escalate": "taken inside recording or assigning a finding, no form of its own",
}


@pytest.fixture
def people(make_user):
    return {
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Qm"),
        "qm2": make_user("qm2", roles=[Role.QUALITY_MANAGER], display_name="Second Qm"),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Qe"),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER], display_name="Second Qe"),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER], display_name="Sqe"),
        "sqe2": make_user("sqe2", roles=[Role.SUPPLIER_QUALITY_ENGINEER], display_name="Second Sqe"),
        "eng": make_user("eng", roles=[Role.MRB_MEMBER], display_name="Eng"),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Sup"),
        "inspector": make_user("insp", roles=[Role.INSPECTOR], display_name="Insp"),
        "auditor": make_user("aud", roles=[Role.AUDITOR], display_name="Aud"),
        # imports lots (administrator) and holds the release permission (quality engineer)
        "qeadm": make_user("qeadm", roles=[Role.QUALITY_ENGINEER, Role.ADMINISTRATOR], display_name="Qe Admin"),
    }


# --- records in the state where each decision is due ----------------------------------------------------


def _part(number):
    from inspection.tests import factories as insp_f

    return insp_f.part(number)


def _lot(site, code=None):
    from inspection.tests import factories as insp_f

    return insp_f.lot(site, _part("OF-1"), 100, code=code or f"OF-{uuid.uuid4().hex[:6]}")


def _lot_url(lot):
    return reverse("traceability:lot", args=[lot.code])


def release_due(site, p):
    """A finished lot whose FQC the QE performed (and whose plan the QE wrote): the QE may not release it."""
    from inspection import services
    from inspection.models import Stage
    from inspection.tests import factories as insp_f

    part = insp_f.part("OF-FG")
    plan = insp_f.plan(site, part, p["qe"], p["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql="")
    lot = insp_f.lot(site, part, 50, code="OF-FG-1")
    insp = services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=p["qe"])
    insp_f.fill(insp, p["qe"])
    services.inspection_complete(inspection=insp, user=p["qe"], credential=insp_f.cred(p["qe"]))
    return {"url": reverse("inspection:release", args=[lot.code]), "marker": PASSWORD_FIELD}


def reject_due(site, p):
    lot = _lot(site)
    return {"url": _lot_url(lot), "marker": reverse("traceability:lot_action", args=[lot.code, "reject"])}


def hold_due(site, p):
    lot = _lot(site)
    return {"url": _lot_url(lot), "marker": reverse("traceability:lot_action", args=[lot.code, "hold"])}


def lift_due(site, p):
    from traceability.models import HoldSource
    from traceability.services import lot_hold_place

    lot = _lot(site)
    lot_hold_place(lot=lot, source=HoldSource.MANUAL, reference="Q-1", reason="suspect", user=p["qm"])
    return {"url": _lot_url(lot), "marker": reverse("traceability:lot_action", args=[lot.code, "lift"])}


def recall_approve_due(site, p):
    from traceability.services import recall_start

    recall = recall_start(lot=_lot(site), user=p["qm"], reason="suspect weld")
    return {"url": reverse("traceability:recall", args=[recall.code]), "marker": 'value="approve"'}


def recall_close_due(site, p):
    from nonconformance.tests.factories import credential
    from traceability.services import recall_approve, recall_notifications_send, recall_notify, recall_start

    recall = recall_start(lot=_lot(site), user=p["qe"], reason="suspect weld")
    recall_approve(recall=recall, user=p["qm"], credential=credential(p["qm"]), reason="go")
    recall_notify(recall=recall, user=p["qe"])
    recall_notifications_send(recall_id=recall.pk)  # nobody to notify: the recall is in progress
    recall.refresh_from_db()
    assert recall.status == "in_progress"
    return {"url": reverse("traceability:recall", args=[recall.code]), "marker": 'value="close"'}


def plan_approve_due(site, p):
    from inspection import services

    plan = services.plan_create(site=site, part=_part("OF-P"), stage="iqc", title="Draft", user=p["qe"], aql="1.0")
    services.characteristic_add(plan=plan, user=p["qe"], name="Bore", nominal="10", tolerance="0.02", unit="mm")
    return {
        "url": reverse("inspection:plan", args=[plan.pk]),
        "marker": reverse("inspection:plan_action", args=[plan.pk, "approve"]),
    }


def supplier_decide_due(site, p):
    from suppliers import services
    from suppliers.tests import factories as sf

    supplier = sf.qualify(sf.make_supplier(p["sqe"], site, code="OF-S1"), p["sqe"])
    services.supplier_start_evaluation(supplier=supplier, user=p["sqe"], credential=sf.cred(p["sqe"]), reason="go")
    return {
        "url": reverse("suppliers:detail", args=[supplier.pk]),
        "marker": reverse("suppliers:decide", args=[supplier.pk, "approve"]),
        "form_page": reverse("suppliers:decide", args=[supplier.pk, "approve"]),
    }


def certificate_due(site, p):
    from suppliers.models import CertificateType
    from suppliers.tests import factories as sf

    supplier = sf.make_supplier(p["sqe"], site, code="OF-S2")
    cert = sf.add_cert(supplier, p["sqe"], CertificateType.ISO_9001, accept=False)
    return {"url": reverse("suppliers:certificate_review", args=[cert.pk]), "marker": 'name="decision"'}


def ppap_due(site, p):
    from suppliers import services
    from suppliers.models import PpapElement
    from suppliers.ppap import PHYSICAL
    from suppliers.tests import factories as sf

    supplier = sf.approved_supplier(p["sqe"], site, code="OF-S3")
    sub = services.ppap_create(supplier=supplier, part=sf.make_part("OF-PP"), level=1, reason="initial", user=p["sqe"])
    for el in PpapElement.objects.filter(submission=sub, required=True).exclude(number__in=PHYSICAL):
        services.ppap_attachment_add(element=el, upload=sf.pdf(f"e{el.number}.pdf"), user=p["sqe"])
    services.ppap_submit(submission=sub, user=p["sqe"])
    return {
        "url": reverse("suppliers:ppap_detail", args=[sub.pk]),
        "marker": reverse("suppliers:ppap_decide", args=[sub.pk, "approve"]),
        "form_page": reverse("suppliers:ppap_decide", args=[sub.pk, "approve"]),
    }


def asl_due(site, p):
    from suppliers import services
    from suppliers.tests import factories as sf

    supplier = sf.make_supplier(p["sqe"], site, code="OF-S4")
    entry = services.asl_entry_create(supplier=supplier, part=sf.make_part("OF-ASL"), user=p["sqe"])
    return {
        "url": reverse("suppliers:detail", args=[supplier.pk]),
        "marker": reverse("suppliers:asl_decide", args=[entry.pk, "approve"]),
        "form_page": reverse("suppliers:asl_decide", args=[entry.pk, "approve"]),
    }


def history_import_due(site, p):
    """The lots' import page, whose history option (import released lots as released, e-signed) is the
    decision; the import itself and its per-row refusals: tests/test_issue10_history_import.py."""
    return {"url": reverse("traceability:lot_import"), "marker": 'name="release_as_history"'}


def _ncr_url(ncr):
    return reverse("nonconformance:ncr_detail", args=[ncr.code])


def _ncr_in_review(site, p):
    from nonconformance.tests import factories as nf

    return nf.ncr_in_review(site, p["qe"], p["qe"], [("use_as_is", 10, {})], qty_confirmed=10)


def _ncr_dispositioned(site, p):
    from nonconformance import services
    from nonconformance.tests import factories as nf

    ncr = _ncr_in_review(site, p)
    for user, role in ((p["qm"], "quality"), (p["eng"], "engineering")):
        services.mrb_decide(
            disposition=ncr.mrb, mrb_role=role, vote="approve", user=user, credential=nf.credential(user)
        )
    ncr.refresh_from_db()
    assert ncr.status == "dispositioned"
    return ncr


def _ncr_executed(site, p):
    from nonconformance import services

    ncr = _ncr_dispositioned(site, p)
    for line in ncr.mrb.lines.all():
        services.disposition_line_execute(line=line, user=p["qe2"], note="done")
    return ncr


def mrb_sign_due(site, p):
    ncr = _ncr_in_review(site, p)
    return {
        "url": _ncr_url(ncr),
        "marker": reverse("nonconformance:mrb_decide", args=[ncr.code]),
        "form_page": reverse("nonconformance:mrb_decide", args=[ncr.code]),
    }


def execute_due(site, p):
    ncr = _ncr_dispositioned(site, p)
    line = ncr.mrb.lines.get()
    return {"url": _ncr_url(ncr), "marker": reverse("nonconformance:disposition_line_execute", args=[line.pk])}


def verify_due(site, p):
    ncr = _ncr_executed(site, p)
    return {
        "url": _ncr_url(ncr),
        "marker": reverse("nonconformance:ncr_verify", args=[ncr.code]),
        "form_page": reverse("nonconformance:ncr_verify", args=[ncr.code]),
    }


def close_due(site, p):
    from nonconformance import services
    from nonconformance.tests import factories as nf

    ncr = _ncr_executed(site, p)
    services.ncr_verify(ncr=ncr, user=p["qm"], credential=nf.credential(p["qm"]))
    return {"url": _ncr_url(ncr), "marker": reverse("nonconformance:ncr_close", args=[ncr.code])}


def ncr_cancel_due(site, p):
    from nonconformance.tests import factories as nf

    ncr = nf.open_ncr(site, p["qe"])
    return {
        "url": _ncr_url(ncr),
        "marker": reverse("nonconformance:ncr_cancel", args=[ncr.code]),
        "form_page": reverse("nonconformance:ncr_cancel", args=[ncr.code]),
    }


def complaint_cancel_due(site, p):
    from django.utils import timezone

    from nonconformance import services
    from nonconformance.tests import factories as nf

    complaint = services.complaint_create(
        site=site, customer=nf.customer(), part=nf.part(), title="Noise", description="bearing noise",
        response_due_on=timezone.localdate(), user=p["qe"],
    )  # fmt: skip
    return {
        "url": reverse("nonconformance:complaint_detail", args=[complaint.code]),
        "marker": reverse("nonconformance:complaint_cancel", args=[complaint.code]),
        "form_page": reverse("nonconformance:complaint_cancel", args=[complaint.code]),
    }


def _capa_checking(site, p):
    """A CAPA owned by the QE whose actions are done and whose effectiveness check is pending."""
    from capa import services
    from capa.tests.factories import capa_with_done_action

    capa = capa_with_done_action(site, p["qe"], p["qm"])
    check = services.capa_actions_close(capa=capa, user=p["qm"])
    return capa, check


def capa_verify_due(site, p):
    capa, check = _capa_checking(site, p)
    return {
        "url": reverse("capa:capa_detail", args=[capa.code]),
        "marker": reverse("capa:effectiveness_record", args=[check.pk]),
        "form_page": reverse("capa:effectiveness_record", args=[check.pk]),
    }


def capa_close_due(site, p):
    capa, _check = _capa_checking(site, p)
    return {
        "url": reverse("capa:capa_detail", args=[capa.code]),
        "marker": reverse("capa:capa_close", args=[capa.code]),
    }


def capa_cancel_due(site, p):
    from capa import services

    capa = services.capa_create(site=site, title="Bore oversize", owner=p["qe"], user=p["qm"])
    return {
        "url": reverse("capa:capa_detail", args=[capa.code]),
        "marker": reverse("capa:capa_cancel", args=[capa.code]),
        "form_page": reverse("capa:capa_cancel", args=[capa.code]),
    }


def spc_freeze_due(site, p):
    from inspection import services
    from inspection.models import Stage
    from inspection.tests import factories as insp_f

    chars = [{"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 4}]
    plan = insp_f.plan(
        site, _part("OF-SPC"), p["qe"], p["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=5, aql="",
        chars=chars,
    )  # fmt: skip
    char = plan.characteristics.get()
    for k in range(6):
        insp = services.inspection_create(stage=Stage.IPQC, plan=plan, lot_size=5, user=p["inspector"])
        rows = [
            {"characteristic": char.pk, "sample_no": n, "raw": f"{Decimal('10') + Decimal(n - k) / 1000:.4f}"}
            for n in range(1, 6)
        ]
        services.measurements_record(inspection=insp, values=rows, submission_key=uuid.uuid4(), user=p["inspector"])
        services.inspection_complete(inspection=insp, user=p["inspector"], credential=insp_f.cred(p["inspector"]))
    return {
        "url": reverse("inspection:spc_chart", args=[char.pk]),
        "marker": reverse("inspection:spc_freeze", args=[char.pk]),
    }


def _document(site, p):
    from documents.tests import factories as df

    return df, df.document(site, p, title=f"SOP {uuid.uuid4().hex[:4]}")


def document_review_due(site, p):
    """A version the QE wrote, sent to the supervisor for review: the QE may not review it."""
    df, doc = _document(site, p)
    version = df.in_review(doc, p)
    return {"url": reverse("documents:version_review", args=[version.pk]), "marker": PASSWORD_FIELD}


def document_approve_due(site, p):
    from documents import services

    df, doc = _document(site, p)
    version = df.in_review(doc, p)
    services.version_review(version=version, user=p["sup"], credential=df.cred(p["sup"]))
    return {"url": reverse("documents:version_approve", args=[version.pk]), "marker": PASSWORD_FIELD}


def document_obsolete_due(site, p):
    df, doc = _document(site, p)
    df.effective(doc, p)
    page = reverse("documents:obsolete", args=[doc.pk])
    return {"url": reverse("documents:detail", args=[doc.pk]), "marker": page, "form_page": page}


def training_assess_due(site, p):
    df, doc = _document(site, p)
    version = df.effective(doc, p)
    page = reverse("documents:training_instructor", args=[version.pk])
    return {"url": reverse("documents:version", args=[version.pk]), "marker": page, "form_page": page}


def training_acknowledge_due(site, p):
    """A new SOP in force that the quality engineers and managers must read: each has an open task, listed
    on their own "my training" page (the task page itself is the trainee's only, see the test below)."""
    from documents.tests import factories as df

    doc = df.document(site, p, title="SOP reading", training_roles=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER])
    df.effective(doc, p)
    task_url = reverse("documents:training_acknowledge", args=[0])
    return {"url": reverse("documents:my_training"), "marker": task_url[: task_url.rindex("0/")]}


def audit_close_due(site, p):
    """An internal audit performed and reported by its lead auditor, the QE, with the SQE on the team: only
    the lead signs the closure, so the SQE (who holds the authority) is refused and told who can."""
    from audits import services
    from audits.tests import factories as af

    audit = af.performed_audit(site, {**p, "prod": p["sup"]})  # lead auditor QE, auditor SQE
    services.audit_perform_complete(audit=audit, user=p["qe"], summary="Every item conforming")
    return {
        "url": reverse("audits:audit_detail", args=[audit.code]),
        "marker": reverse("audits:audit_close", args=[audit.code]),
        "form_page": reverse("audits:audit_close", args=[audit.code]),
    }


def _change_cast(p):
    return {**p, "prod": p["sup"]}  # changes' factories call the production supervisor "prod"


def _change_url(change):
    return reverse("changes:change_detail", args=[change.code])


def board_sign_due(site, p):
    """A change the QE requested, assessed by the second QE, at the board (quality manager and engineer)."""
    from changes.tests import factories as cf

    change = cf.at_board(site, _change_cast(p), requester="qe")
    return {
        "url": _change_url(change),
        "marker": reverse("changes:board_sign", args=[change.code]),
        "form_page": reverse("changes:board_sign", args=[change.code]),
    }


def _change_implemented(site, p):
    """An approved change whose one task the second QE owned and did: its effectiveness check is due."""
    from django.utils import timezone

    from changes import services
    from changes.tests import factories as cf

    change = cf.approved(site, _change_cast(p))
    today = timezone.localdate()
    task = services.task_add(change=change, description="Update WI-GRD-01", owner=p["qe2"], due_on=today, user=p["qe"])
    services.task_complete(task=task, user=p["qe2"], evidence="WI-GRD-01 rev B issued")
    check = services.implementation_complete(change=change, user=p["qe"], criteria="no burn", check_due_on=today)
    return change, check


def change_verify_due(site, p):
    change, check = _change_implemented(site, p)
    return {
        "url": _change_url(change),
        "marker": reverse("changes:effectiveness", args=[check.pk]),
        "form_page": reverse("changes:effectiveness", args=[check.pk]),
    }


def change_close_due(site, p):
    from changes import services
    from changes.tests.factories import credential

    change, check = _change_implemented(site, p)
    services.change_effectiveness_record(
        check=check, result="effective", evidence="No grinding burn since", user=p["qm"], credential=credential(p["qm"])
    )
    return {"url": _change_url(change), "marker": reverse("changes:change_close", args=[change.code])}


def change_cancel_due(site, p):
    from changes.tests import factories as cf

    change = cf.change(site, _change_cast(p))
    return {
        "url": _change_url(change),
        "marker": reverse("changes:change_cancel", args=[change.code]),
        "form_page": reverse("changes:change_cancel", args=[change.code]),
    }


def mbr_approve_due(site, p):
    from batchrecords.tests import factories as bf

    master = bf.mbr(site, p["qe"])
    return {"url": reverse("batchrecords:mbr_approve", args=[master.code]), "marker": PASSWORD_FIELD}


def _batch_record(site, p):
    """A batch record of the tablet master (QE wrote it, QM approved it) run by the production supervisor."""
    from batchrecords.tests import factories as bf

    record = bf.ebr(site, {"qe": p["qe"], "qm": p["qm"], "op": p["sup"]})
    return bf, record, bf.param_ids(record), bf.steps(record)


def step_verify_due(site, p):
    """The supervisor performed the critical granulation step: a second person must verify it."""
    from batchrecords import services

    bf, record, ids, (granulation, _compression) = _batch_record(site, p)
    services.ebr_step_perform(
        step=granulation,
        user=p["sup"],
        credential=bf.cred(p["sup"]),
        values={ids["Inlet temperature"]: "65", ids["Moisture"]: "1.2"},
    )
    return {
        "url": reverse("batchrecords:ebr_detail", args=[record.code]),
        "marker": reverse("batchrecords:ebr_step_verify", args=[record.code, granulation.pk]),
    }


def ebr_review_due(site, p):
    """A completed batch record whose critical step the QE verified: the QE took part, may not review it."""
    from batchrecords import services

    bf, record, ids, (granulation, compression) = _batch_record(site, p)
    sup = p["sup"]
    values = {ids["Inlet temperature"]: "65", ids["Moisture"]: "1.2"}
    services.ebr_step_perform(step=granulation, user=sup, credential=bf.cred(sup), values=values)
    services.ebr_step_verify(step=granulation, user=p["qe"], credential=bf.cred(p["qe"]))
    services.ebr_step_perform(step=compression, user=sup, credential=bf.cred(sup), values={ids["Hardness"]: "50"})
    material = record.mbr.materials.get()
    lot = bf.material_lot(site, material.part)
    services.ebr_dispense(ebr=record, material=material, lot_code=lot.code, quantity="10", user=sup)
    services.ebr_yield_record(ebr=record, actual_yield="98", user=sup)
    services.ebr_complete(ebr=record, user=sup)
    return {"url": reverse("batchrecords:ebr_review", args=[record.code]), "marker": PASSWORD_FIELD}


def deviation_approve_due(site, p):
    """A minor deviation the QE raised, assessed by the second QE (its lot not affected): QA approval due."""
    from batchrecords import services
    from batchrecords.tests import factories as bf

    lot = bf.material_lot(site, bf.part("OF-BULK"), status="quarantine")
    dev = services.deviation_raise(site=site, title="Room pressure alarm", lots=[lot], user=p["qe"])
    row = dev.affected_lots.get()
    services.deviation_assess(
        deviation=dev,
        user=p["qe2"],
        classification="minor",
        impact_assessment="Doors closed within a minute: no exposure",
        lot_impacts={row.pk: ("not_affected", "closed phase")},
    )
    return {
        "url": reverse("batchrecords:deviation_detail", args=[dev.code]),
        "marker": reverse("batchrecords:deviation_approve", args=[dev.code]),
        "form_page": reverse("batchrecords:deviation_approve", args=[dev.code]),
    }


@dataclass(frozen=True)
class Case:
    build: object  # (site, people) -> {"url", "marker", optional "form_page"}
    refused: str  # holds the permission, but the door refuses them
    eligible: str  # someone the door lets take it
    outsider: str = "auditor"  # a role without the permission
    authority: tuple = field(default=())  # the site's own roles for the decision (DecisionAuthority), if any


R = Role
CASES: dict[str, Case] = {
    # refused for a part they played in the record (policy.DECISIONS "barred")
    "lot.release": Case(release_due, refused="qe", eligible="qm"),
    "recall.approve": Case(recall_approve_due, refused="qm", eligible="qm2"),
    "plan.approve": Case(plan_approve_due, refused="qe", eligible="qm", outsider="inspector"),
    "supplier.decide": Case(supplier_decide_due, refused="sqe", eligible="sqe2"),
    "certificate.accept": Case(certificate_due, refused="sqe", eligible="sqe2"),
    "ppap.decide": Case(ppap_due, refused="sqe", eligible="qm"),
    "mrb.sign": Case(mrb_sign_due, refused="qe", eligible="qm", outsider="inspector"),
    "ncr.verify": Case(verify_due, refused="qe2", eligible="qm", outsider="inspector"),
    "ncr.close": Case(close_due, refused="qe2", eligible="qm", outsider="inspector"),
    "capa.verify": Case(capa_verify_due, refused="qe", eligible="qm", outsider="inspector"),
    # no part bars anyone: refused because the site gave the decision to quality managers only
    "lot.reject": Case(reject_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)),
    "lot.hold": Case(hold_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)),
    "lot.hold_lift": Case(lift_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)),
    "recall.close": Case(recall_close_due, refused="qe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    "asl.decide": Case(asl_due, refused="sqe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    "disposition.execute": Case(
        execute_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "ncr.cancel": Case(
        ncr_cancel_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "complaint.cancel": Case(
        complaint_cancel_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "capa.close": Case(
        capa_close_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "capa.cancel": Case(
        capa_cancel_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "lot.release_history": Case(
        history_import_due, refused="qeadm", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "spc.freeze": Case(spc_freeze_due, refused="qe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    # second wave
    "document.review": Case(document_review_due, refused="qe", eligible="sup"),
    "document.approve": Case(document_approve_due, refused="qe", eligible="qm"),
    "document.obsolete": Case(document_obsolete_due, refused="qe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    "training.assess": Case(training_assess_due, refused="qe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    "training.acknowledge": Case(training_acknowledge_due, refused="qe", eligible="qm", authority=(R.QUALITY_MANAGER,)),
    "audit.close": Case(audit_close_due, refused="sqe", eligible="qe", outsider="inspector"),
    "mbr.approve": Case(mbr_approve_due, refused="qe", eligible="qm"),
    "change.board_sign": Case(board_sign_due, refused="qe", eligible="qm", outsider="inspector"),
    "change.verify": Case(change_verify_due, refused="qe2", eligible="qm", outsider="inspector"),
    "change.close": Case(
        change_close_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "change.cancel": Case(
        change_cancel_due, refused="qe", eligible="qm", outsider="inspector", authority=(R.QUALITY_MANAGER,)
    ),
    "ebr.step_verify": Case(step_verify_due, refused="sup", eligible="inspector"),
    "ebr.review": Case(ebr_review_due, refused="qe", eligible="qm", outsider="inspector"),
    "deviation.approve": Case(deviation_approve_due, refused="qe", eligible="qm", outsider="inspector"),
}


def test_every_decision_has_a_page_case():
    """A decision added to DECISIONS needs its page to ask policy.decision_offer, and a case here."""
    missing = set(policy.DECISIONS) - set(CASES) - set(NO_PAGE)
    assert not missing, f"Add a page case to tests/test_decision_offers.py for: {sorted(missing)}"
    assert not (set(CASES) | set(NO_PAGE)) - set(policy.DECISIONS)
    assert not set(CASES) & set(NO_PAGE), "a decision with a page case is not one no page offers"


def _refusal_note(page: str, decision: str) -> str:
    """The text of the note the include renders for `decision` ("" when there is none)."""
    match = re.search(rf'data-decision-refused="{re.escape(decision)}">(.*?)</div>', page, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("decision", sorted(CASES))
def test_page_offers_the_form_only_to_whom_the_door_lets_decide(decision, site, people, login):
    case = CASES[decision]
    record = case.build(site, people)
    if case.authority:
        with audit_context(reason="test: this plant gives the decision to these roles"):
            for role in case.authority:
                DecisionAuthority.objects.create(site=site, decision=decision, role=role)
    refused, eligible = people[case.refused], people[case.eligible]
    assert policy.can(refused, policy.DECISIONS[decision].perm, site), "the refused person holds the permission"
    pages = [record["url"]] + ([record["form_page"]] if "form_page" in record else [])

    # (1) the permission holder the door refuses: no form, the note says who can act
    client = login(refused)
    response = client.get(record["url"])
    assert response.status_code == 200
    page = response.content.decode()
    assert record["marker"] not in page, f"{decision}: the form is offered to {case.refused}"
    note = _refusal_note(page, decision)
    assert "Who can act:" in note and eligible.printed_name in note, (decision, note or page)
    if "form_page" in record:
        response = client.get(record["form_page"])
        if case.authority:  # outside this site's authority: the decision's own page is refused too
            assert response.status_code == 403
        else:  # barred by a part played: the decision's page says so instead of offering the form
            form_page = response.content.decode()
            assert PASSWORD_FIELD not in form_page and eligible.printed_name in _refusal_note(form_page, decision)

    # (2) an eligible person sees the form, and no refusal for it
    client = login(eligible)
    page = client.get(record["url"]).content.decode()
    assert record["marker"] in page, f"{decision}: the form is not offered to {case.eligible}"
    assert not _refusal_note(page, decision)
    if "form_page" in record:
        assert PASSWORD_FIELD in client.get(record["form_page"]).content.decode()

    # (3) a role without the permission: no form (the page may be refused altogether)
    client = login(people[case.outsider])
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403), (decision, url, response.status_code)
        if response.status_code == 200:
            page = response.content.decode()
            assert record["marker"] not in page and PASSWORD_FIELD not in page, (
                f"{decision}: offered to {case.outsider}"
            )


def test_the_refusal_reads_in_chinese(site, people, login):
    record = plan_approve_due(site, people)
    page = login(people["qe"]).get(record["url"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    note = _refusal_note(page, "plan.approve")
    assert record["marker"] not in page and "Qm" in note
    assert "Who can act" not in note and "You authored" not in note, note


def test_decision_offer_and_the_door_agree_for_the_supplier_author(site, people):
    """The page's offer and the door give the same answer (one rule: policy.check_decide at the same site)."""
    from qms.core.errors import PermissionRefused
    from suppliers import services
    from suppliers.tests import factories as sf

    supplier = sf.qualify(sf.make_supplier(people["sqe"], site, code="OF-S9"), people["sqe"])
    services.supplier_start_evaluation(
        supplier=supplier, user=people["sqe"], credential=sf.cred(people["sqe"]), reason="go"
    )
    offer = services.decision_offer(people["sqe"], "supplier.decide", supplier, involved={"authored": people["sqe"].pk})
    assert not offer["may"] and "Second Sqe" in offer["why"]
    with pytest.raises(PermissionRefused, match="Who can act"):
        services.supplier_approve(supplier=supplier, user=people["sqe"], credential=sf.cred(people["sqe"]), reason="x")
    # suspending is nobody's own record: the author may (no segregation for it)
    assert services.decision_offer(people["sqe"], "supplier.decide", supplier)["may"]


@pytest.mark.parametrize(
    "decision, status",
    [("ncr.cancel", "cancelled"), ("complaint.cancel", "cancelled"), ("change.cancel", "cancelled")],
)
def test_a_site_may_give_a_decision_to_a_role_without_its_default_permission(
    decision, status, site, people, make_user, login
):
    """Per-site authority reaches the pages too: the production supervisor this plant made its deputy sees
    the form, reaches the decision page (not refused by the default permission) and takes the decision."""
    from changes.models import ChangeRequest
    from conftest import PASSWORD
    from nonconformance.models import Complaint, Ncr

    record = CASES[decision].build(site, people)
    deputy = make_user("deputy", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Deputy")
    client = login(deputy)
    assert record["marker"] not in client.get(record["url"]).content.decode()
    assert client.get(record["form_page"]).status_code == 403
    with audit_context(reason="test: the deputy decides at this plant"):
        DecisionAuthority.objects.create(site=site, decision=decision, role=Role.PRODUCTION_SUPERVISOR)
    assert record["marker"] in client.get(record["url"]).content.decode()
    assert PASSWORD_FIELD in client.get(record["form_page"]).content.decode()
    response = client.post(record["form_page"], {"username": "deputy", "password": PASSWORD, "reason": "in error"})
    assert response.status_code == 302
    model = {"ncr.cancel": Ncr, "complaint.cancel": Complaint, "change.cancel": ChangeRequest}[decision]
    assert model.objects.get().status == status
    # the quality engineer, no longer in this plant's authority for it, is refused at the page as at the door
    assert login(people["qe"]).get(record["form_page"]).status_code == 403


def test_the_trainee_outside_the_sites_authority_reads_the_task_page_without_the_form(site, people, login):
    """training.acknowledge: the task page is the trainee's own (no one else reaches it), so its refusal is
    checked here rather than in the walk above: the note, no signature form, and a signed post is refused."""
    from conftest import PASSWORD
    from documents.models import TrainingRecord, TrainingTask

    record = training_acknowledge_due(site, people)
    assert record["marker"].endswith("/task/")
    with audit_context(reason="test: this plant gives the decision to these roles"):
        DecisionAuthority.objects.create(site=site, decision="training.acknowledge", role=Role.QUALITY_MANAGER)
    task = TrainingTask.objects.get(user=people["qe"])
    url = reverse("documents:training_acknowledge", args=[task.pk])
    client = login(people["qe"])
    page = client.get(url).content.decode()
    assert PASSWORD_FIELD not in page and "Qm" in _refusal_note(page, "training.acknowledge")
    client.post(url, {"username": "qe", "password": PASSWORD, "reason": "read"})
    assert not TrainingRecord.objects.filter(user=people["qe"]).exists()
    mine = TrainingTask.objects.get(user=people["qm"])
    assert (
        PASSWORD_FIELD
        in login(people["qm"]).get(reverse("documents:training_acknowledge", args=[mine.pk])).content.decode()
    )


# Decisions a site's authority cannot hand to a role without the decision's default permission: the
# person who takes them is fixed by the record or by a seat that only holders of the permission fill.
NOT_DELEGABLE = {
    "mrb.sign": "signed per MRB seat (nonconformance.models.MRB_ROLE_HOLDERS: quality, production, "
    "engineering, sales, quality manager) and every role that fills a seat already holds mrb.sign, so no role "
    "without the permission can sign for any seat; the site's authority only narrows who of them may",
    "training.acknowledge": "the trainee signs their own read-and-understood on their own task "
    "(documents.services.training_acknowledge): nobody signs for someone else, so there is nothing to deputise",
    "audit.close": "only the audit's lead auditor signs the closure (audits.services.audit_close), and the lead "
    "is named at planning among those who perform audits (audits.perform, audits.services._may_audit): a role "
    "without the permission can never be the lead of an audit to close",
}

# The deputy: a role without the decision's default permission that reads the page offering it. The MRB
# member unless it holds the permission or may not read the page.
DEPUTY_ROLE = {
    "lot.release_history": R.ADMINISTRATOR,  # the option is on the lots' import page (lots.import)
    "change.board_sign": R.INSPECTOR,  # the MRB member holds changes.board; the site seats inspectors too
    "document.review": R.ADMINISTRATOR,  # every other writer holds documents.review
}


def _seat_inspectors_on_the_change_board(site, p, deputy):
    from changes.models import BoardRole

    with audit_context(reason="test: this plant's change board is the quality manager and an inspector"):
        for role in (R.QUALITY_MANAGER, R.INSPECTOR):
            BoardRole.objects.create(site=site, role=role)


def _version_the_deputy_reviews(site, p, deputy):
    """The author names reviewers among those with the site's authority: the deputy once it holds it (the
    version page offers the deputy among the reviewers, as version_submit accepts it)."""
    from documents import services
    from documents.forms import SubmitForm

    df, doc = _document(site, p)
    draft = df.draft(doc, p["qe"])
    assert deputy in SubmitForm(version=draft).fields["reviewers"].queryset
    version = services.version_submit(version=draft, user=p["qe"], reviewers=[deputy])
    return {"url": reverse("documents:version_review", args=[version.pk]), "marker": PASSWORD_FIELD}


# Run once the site gave the deputy the decision: what else the plant configures for it, or (returning a
# record) the record the deputy now decides on.
AFTER_GRANT = {
    "change.board_sign": _seat_inspectors_on_the_change_board,
    "document.review": _version_the_deputy_reviews,
}


@pytest.mark.parametrize("decision", sorted(set(CASES) - set(NOT_DELEGABLE)))
def test_a_deputy_the_site_gives_the_decision_reaches_its_page(decision, site, people, make_user, login):
    """A page that exists to take one decision follows the site's decision authority (require_decision), not
    the default permission, and so does the action its form posts to: a role this plant made a deputy, which
    does not hold the default permission, is refused before and offered the form and let through after."""
    role = DEPUTY_ROLE.get(decision, R.MRB_MEMBER)
    assert role not in policy._roles_for(policy.DECISIONS[decision].perm), "the deputy lacks the permission"
    record = CASES[decision].build(site, people)
    form_page = record.get("form_page")
    deputy = make_user("deputy", roles=[role], display_name="Deputy")
    client = login(deputy)
    response = client.get(record["url"])
    assert response.status_code == 403 or record["marker"] not in response.content.decode(), decision
    if form_page:
        assert client.get(form_page).status_code == 403, decision

    with audit_context(reason="test: the deputy decides at this plant"):
        DecisionAuthority.objects.create(site=site, decision=decision, role=role)
    record = (AFTER_GRANT[decision](site, people, deputy) if decision in AFTER_GRANT else None) or record
    form_page = record.get("form_page")
    response = client.get(record["url"])
    assert response.status_code == 200, (decision, response.status_code)
    assert record["marker"] in response.content.decode(), f"{decision}: the form is not offered to the deputy"
    if form_page:
        response = client.get(form_page)
        assert response.status_code == 200, (decision, response.status_code)
        assert PASSWORD_FIELD in response.content.decode(), decision
    # the action the form posts to lets the deputy through to the door (an empty post: the form refuses it)
    actions = dict.fromkeys(url for url in (record["marker"], form_page) if url and url.startswith("/"))
    for url in actions:
        assert client.post(url, {}).status_code != 403, (decision, url)


def test_a_deputy_given_the_certificate_review_rejects_as_well_as_accepts(site, people, make_user):
    """Rejecting is the other outcome of the review the page offers: the same authority (certificate.accept at
    the supplier's decision site), not the default suppliers.certificates permission."""
    from qms.core.errors import PermissionRefused
    from suppliers import services
    from suppliers.models import CertificateType
    from suppliers.tests import factories as sf

    supplier = sf.make_supplier(people["sqe"], site, code="OF-S8")
    cert = sf.add_cert(supplier, people["sqe"], CertificateType.ISO_9001, accept=False)
    deputy = make_user("deputy", roles=[Role.MRB_MEMBER], display_name="Deputy")
    with pytest.raises(PermissionRefused, match="Who can act"):
        services.certificate_reject(certificate=cert, user=deputy, comment="wrong scope")
    with audit_context(reason="test: the deputy decides at this plant"):
        DecisionAuthority.objects.create(site=site, decision="certificate.accept", role=Role.MRB_MEMBER)
    assert services.certificate_reject(certificate=cert, user=deputy, comment="wrong scope").status == "rejected"
    # the supplier quality engineer, outside this plant's authority for it now, may no longer reject
    other = sf.add_cert(supplier, people["qm"], CertificateType.ISO_14001, accept=False)
    with pytest.raises(PermissionRefused):
        services.certificate_reject(certificate=other, user=people["sqe2"], comment="wrong scope")
