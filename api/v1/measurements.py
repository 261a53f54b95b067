"""Measurements pushed by MES or a measuring machine: up to 1,000 values per call, judged at once,
recorded through the tablet's service (so they feed SPC), idempotent by the Idempotency-Key header."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from inspection.ingest import MAX_ITEMS, IngestRefused, measurements_ingest

from .. import services as api_services
from ..problems import BulkRefused
from .base import ApiView, read

TAG = ["measurements"]


class ValueIn(serializers.Serializer):
    inspection = serializers.CharField(max_length=30, help_text=gettext_lazy("Inspection number."))
    characteristic = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, help_text=gettext_lazy("The characteristic's number in the plan.")
    )
    sample_no = serializers.IntegerField(min_value=1, max_value=100_000)
    value = serializers.CharField(
        max_length=40,
        allow_blank=False,
        help_text=gettext_lazy("The reading: a number, pass/fail, or a defect count, as the characteristic's kind."),
    )


class MeasurementsIn(serializers.Serializer):
    values = ValueIn(many=True, allow_empty=False, max_length=MAX_ITEMS)


class OutOfLimits(serializers.Serializer):
    index = serializers.IntegerField()
    inspection = serializers.CharField()
    characteristic = serializers.IntegerField()
    sample_no = serializers.IntegerField()
    value = serializers.CharField()


class RefusedValue(serializers.Serializer):
    index = serializers.IntegerField()
    detail = serializers.CharField()


class LineStopOut(serializers.Serializer):
    line = serializers.CharField(allow_blank=True)
    inspection = serializers.CharField()
    raised_at = serializers.DateTimeField()


class MeasurementsOut(serializers.Serializer):
    recorded = serializers.IntegerField()
    replayed = serializers.BooleanField()
    out_of_limits = OutOfLimits(many=True)
    refused = RefusedValue(many=True)
    line_stop_requested = serializers.BooleanField()
    line_stops = LineStopOut(many=True)
    inspections = serializers.ListField(child=serializers.CharField())


@read("inspection.view", post="inspection.perform")
class MeasurementsPush(ApiView):
    serializer_class = MeasurementsIn

    @extend_schema(
        tags=TAG,
        summary="Push up to 1,000 measured values (MES, CMM)",
        description=(
            "Each value is judged against its characteristic's limits at once. Any unreadable or unknown "
            "value refuses the whole call (422, `errors` name each item), nothing is recorded. Values "
            "measured with a gauge past its calibration are not recorded and come back in `refused`. "
            "Send an `Idempotency-Key` (a UUID per call): the same call sent again records nothing twice and "
            "gets the first answer. `line_stop_requested` says the line must stop (a failed patrol check, "
            "an SPC violation on a critical characteristic, an alarm rule)."
        ),
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        request=MeasurementsIn,
        responses={201: MeasurementsOut, 200: MeasurementsOut},
        operation_id="measurements_push",
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "")
        ser = MeasurementsIn(data=request.data)
        ser.is_valid(raise_exception=True)
        items = [dict(v) for v in ser.validated_data["values"]]
        digest = api_services.request_hash("POST", request.path, request.data)
        with transaction.atomic():
            call, replay = api_services.idempotent_begin(user=request.user, key=key, path=request.path, digest=digest)
            if replay:
                return Response(call.response, status=200, headers={"Idempotent-Replayed": "true"})
            try:
                result = measurements_ingest(items=items, key=key, user=request.user)
            except IngestRefused as exc:
                raise BulkRefused(
                    exc.message,
                    errors=[{"pointer": f"#/values/{i}/{f}", "detail": str(m)} for i, f, m in exc.errors],
                ) from None
            data = MeasurementsOut(
                {
                    "recorded": result.recorded,
                    "replayed": result.replayed,
                    "out_of_limits": [
                        {
                            "index": i,
                            "inspection": items[i]["inspection"],
                            "characteristic": items[i]["characteristic"],
                            "sample_no": items[i]["sample_no"],
                            "value": items[i]["value"],
                        }
                        for i in result.out_of_limits
                    ],
                    "refused": [{"index": i, "detail": why} for i, why in sorted(result.refused.items())],
                    "line_stop_requested": bool(result.line_stops),
                    "line_stops": result.line_stops,
                    "inspections": result.inspections,
                }
            ).data
            api_services.idempotent_finish(call=call, status_code=201, response=data)
        return Response(data, status=201)
