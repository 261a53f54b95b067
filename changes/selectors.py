"""Reads of the changes app: the computed impact suggestions of a change (from the selectors of the
domains below), the board a site requires, the people who implemented a change."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q

from qms.core.models import Role

from .models import BoardRole, ChangeRequest, ChangeTask, ImpactKind

DEFAULT_BOARD = (Role.QUALITY_MANAGER, Role.QUALITY_ENGINEER)
LIMIT = 200  # suggestions per kind: the assessment lists what matters, not a warehouse


def board_roles(site) -> list[str]:
    """Roles whose approval a change needs at `site` (configured per site, else the default board)."""
    configured = list(
        BoardRole.objects.filter(site=site, is_active=True).order_by("role").values_list("role", flat=True)
    )
    return configured or list(DEFAULT_BOARD)


def implementers(change: ChangeRequest) -> set[int]:
    """Everyone who owned or carried out an implementation task of the change."""
    ids = set()
    for owner_id, done_by_id in ChangeTask.objects.filter(change=change).values_list("owner_id", "done_by_id"):
        ids.add(owner_id)
        if done_by_id:
            ids.add(done_by_id)
    return ids


def _row(kind, obj_id, reference, label=""):
    return {"kind": kind, "object_id": obj_id, "reference": str(reference)[:200], "label": str(label)[:300]}


def document_model(name: str = "Document"):
    try:
        return apps.get_model("documents", name)
    except LookupError:
        return None


def impact_suggestions(change: ChangeRequest) -> list[dict]:
    """What the change probably touches, computed from the records below: the part, its inspection plans,
    the operations of open work orders (of the part or on the equipment), the suppliers approved for the
    part (or the supplier changed), the lots of the part in stock (of that supplier for a supplier change),
    and controlled documents of the part when the documents app records them."""
    from inspection.models import InspectionPlan
    from suppliers.models import AslEntry
    from traceability.models import IN_STOCK, Lot, Operation

    site, part = change.site, change.part
    rows: list[dict] = []
    if part is not None:
        rows.append(_row(ImpactKind.PART, part.pk, f"{part.number} rev {part.revision}", part.name))
        plans = InspectionPlan.objects.filter(site=site, part=part, status__in=["draft", "approved"]).order_by(
            "stage", "-version"
        )[:LIMIT]
        rows += [_row(ImpactKind.PLAN, p.pk, f"{part.number} {p.stage} v{p.version}", p.title) for p in plans]
    open_wo = ["planned", "setup", "running"]
    operations = Operation.objects.none()
    if part is not None:
        operations = Operation.objects.filter(
            work_order__site=site, work_order__part=part, work_order__status__in=open_wo
        )
    if change.equipment_id:
        operations = operations | Operation.objects.filter(
            work_order__site=site, equipment_id=change.equipment_id, work_order__status__in=open_wo
        )
    for op in operations.select_related("work_order").order_by("work_order__code", "sequence")[:LIMIT]:
        rows.append(_row(ImpactKind.OPERATION, op.pk, f"{op.work_order.code}/{op.sequence}", op.name))
    suppliers = {}
    if change.supplier_id:
        suppliers[change.supplier_id] = change.supplier
    if part is not None and change.change_type != "supplier":
        for entry in AslEntry.objects.filter(
            part=part, status__in=["approved", "conditional", "pending"]
        ).select_related("supplier")[:LIMIT]:
            suppliers.setdefault(entry.supplier_id, entry.supplier)
    rows += [_row(ImpactKind.SUPPLIER, s.pk, s.code, s.name) for s in suppliers.values()]
    if part is not None:
        lots = Lot.objects.filter(site=site, part=part, status__in=IN_STOCK)
        if change.change_type == "supplier" and change.supplier_id:
            lots = lots.filter(supplier_id=change.supplier_id)
        rows += [
            _row(ImpactKind.LOT, lot.pk, lot.code, f"{lot.quantity} {part.unit} · {lot.get_status_display()}")
            for lot in lots.order_by("code")[:LIMIT]
        ]
    rows += _document_suggestions(change)
    return rows


def _document_suggestions(change: ChangeRequest) -> list[dict]:
    """Controlled documents the part's inspection plans implement, and documents of the site that name the
    part (its number in the title), when the documents app records them."""
    Document = document_model()
    if Document is None or change.part is None:
        return []
    from inspection.models import InspectionPlan

    doc_ids = set()
    if any(f.name == "document" for f in InspectionPlan._meta.get_fields()):
        doc_ids = set(
            InspectionPlan.objects.filter(site=change.site, part=change.part, document__isnull=False).values_list(
                "document_id", flat=True
            )
        )
    qs = Document.objects.filter(site=change.site).filter(Q(pk__in=doc_ids) | Q(title__icontains=change.part.number))
    return [_row(ImpactKind.DOCUMENT, d.pk, d.number, d.title) for d in qs.order_by("number")[:LIMIT]]


def resolve_reference(change: ChangeRequest, kind: str, reference: str) -> dict | None:
    """A manually named impact: the record it names at the change's site, or None when there is none.
    Documents and plans without a matching record are kept as the text given."""
    from qms.core.models import Part
    from suppliers.models import Supplier
    from traceability.models import Lot, Operation

    site, ref = change.site, reference.strip()
    if kind == ImpactKind.PART:
        part = Part.objects.filter(number=ref, is_active=True).order_by("-revision").first()
        return _row(kind, part.pk, f"{part.number} rev {part.revision}", part.name) if part else None
    if kind == ImpactKind.LOT:
        lot = Lot.objects.filter(site=site, code=ref).first()
        return _row(kind, lot.pk, lot.code, lot.get_status_display()) if lot else None
    if kind == ImpactKind.SUPPLIER:
        supplier = Supplier.objects.filter(code=ref, sites=site).first()
        return _row(kind, supplier.pk, supplier.code, supplier.name) if supplier else None
    if kind == ImpactKind.OPERATION:
        wo, _sep, seq = ref.partition("/")
        if not seq.isdigit():
            return None
        op = Operation.objects.filter(work_order__site=site, work_order__code=wo, sequence=int(seq)).first()
        return _row(kind, op.pk, f"{wo}/{seq}", op.name) if op else None
    if kind == ImpactKind.DOCUMENT:
        Document = document_model()
        doc = Document.objects.filter(site=site, number=ref).first() if Document is not None else None
        return _row(kind, doc.pk, doc.number, doc.title) if doc else _row(kind, None, ref, "")
    if kind == ImpactKind.PLAN:
        return _row(kind, None, ref, "")
    return None


def document_versions_for(change: ChangeRequest, limit: int = 50) -> list:
    """Controlled document versions of the change's site (newest first) to link as outputs, when the
    documents app records them; [] otherwise."""
    Version = document_model("DocumentVersion")
    if Version is None:
        return []
    qs = Version.objects.filter(document__site=change.site).select_related("document")
    return list(qs.order_by("-pk")[:limit])


def plan_versions_for(change: ChangeRequest, limit: int = 50) -> list:
    """Inspection plan versions of the change's part at its site (newest first)."""
    from inspection.models import InspectionPlan

    qs = InspectionPlan.objects.filter(site=change.site).select_related("part")
    if change.part_id:
        qs = qs.filter(part_id=change.part_id)
    return list(qs.order_by("-created_at", "-pk")[:limit])
