"""Work orders for MES: read, operation start/finish (the FAI and IPQC gates answer with reasons),
production records with their 5M1E parameters."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from traceability import services
from traceability.models import Operation

from . import lookups
from . import serializers as s
from .base import ApiView, read

TAG = ["production"]


def _wo(view, code, perm):
    wo = view.found(lookups.work_order(code))
    view.require_site(perm, wo.site)
    return wo


def _wo_data(wo) -> dict:
    wo.operation_list = list(wo.operations.order_by("sequence"))
    return s.WorkOrderSerializer(wo).data


@read("lots.view")
class WorkOrderDetail(ApiView):
    serializer_class = s.WorkOrderSerializer

    @extend_schema(tags=TAG, summary="A work order and its operations")
    def get(self, request, code):
        return Response(_wo_data(_wo(self, code, "lots.view")))


@read("lots.view", post="lots.produce")
class OperationStep(ApiView):
    """POST start or finish of one operation (by its sequence number)."""

    serializer_class = s.OperationSerializer
    step = "start"

    def post(self, request, code, sequence):
        wo = _wo(self, code, "lots.produce")
        op = self.found(Operation.objects.filter(work_order=wo, sequence=sequence).first())
        if self.step == "start":
            op = services.operation_start(operation=op, user=request.user)
        else:
            op = services.operation_complete(operation=op, user=request.user)
        return Response(s.OperationSerializer(op).data)


class OperationStart(OperationStep):
    step = "start"

    @extend_schema(
        tags=TAG,
        summary="Start an operation; refused with reasons (FAI not passed, IPQC line stop, earlier step open)",
        request=None,
        responses={200: s.OperationSerializer},
        operation_id="operations_start",
    )
    def post(self, request, code, sequence):
        return super().post(request, code, sequence)


class OperationFinish(OperationStep):
    step = "finish"

    @extend_schema(
        tags=TAG,
        summary="Finish a running operation",
        request=None,
        responses={200: s.OperationSerializer},
        operation_id="operations_finish",
    )
    def post(self, request, code, sequence):
        return super().post(request, code, sequence)


@read("lots.view", post="lots.produce")
class ProductionRecordCreate(ApiView):
    serializer_class = s.ProductionRecordInSerializer

    @extend_schema(
        tags=TAG,
        summary="Record a production run with its 5M1E parameters (man, machine, material, method, environment, measurement)",
        request=s.ProductionRecordInSerializer,
        responses={201: s.ProductionRecordSerializer},
        operation_id="production_records_create",
    )
    def post(self, request, code):
        wo = _wo(self, code, "lots.produce")
        ser = s.ProductionRecordInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        operation = None
        if d.get("operation") is not None:
            operation = Operation.objects.filter(work_order=wo, sequence=d["operation"]).first()
            if operation is None:
                raise s.serializers.ValidationError({"operation": ["No such operation in this work order."]})
        equipment = lookups.equipment(d["equipment"]) if d.get("equipment") else None
        if equipment is not None and equipment.site_id != wo.site_id:
            raise s.serializers.ValidationError({"equipment": ["The equipment belongs to another site."]})
        rec = services.production_record_create(
            work_order=wo,
            user=request.user,
            started_at=d["started_at"],
            ended_at=d.get("ended_at"),
            operation=operation,
            shift=d.get("shift", ""),
            operators=lookups.users(d.get("operators") or []),
            equipment=equipment,
            parameters=[dict(p) for p in d.get("parameters") or []],
            notes=d.get("notes", ""),
        )
        rec.parameter_count = len(d.get("parameters") or [])
        return Response(s.ProductionRecordSerializer(rec).data, status=201)
