"""Inspections (due work, results, CoA PDF), NCR create (an MES defect), complaint create (CRM), NCR and
CAPA status: each through its domain service or selector."""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from capa.models import Capa
from compliance.pdf import render_report_pdf
from compliance.reports import ReportError
from inspection.models import Inspection, InspectionStatus, Stage
from nonconformance import services as nc_services
from nonconformance.models import Ncr, NcrSource, Severity
from qms.core import policy
from traceability.selectors import lot_by_code

from . import lookups
from .base import ApiView, read
from .filters import StrictBooleanFilter

TAG = ["quality"]


class CharacteristicOut(serializers.Serializer):
    number = serializers.IntegerField(source="sequence", help_text=_("Send this as `characteristic`."))
    name = serializers.CharField()
    kind = serializers.CharField()
    nominal = serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True)
    lower_limit = serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True)
    upper_limit = serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True)
    unit = serializers.CharField(allow_blank=True)


class InspectionOut(serializers.Serializer):
    code = serializers.CharField()
    stage = serializers.CharField()
    status = serializers.CharField()
    site = serializers.CharField(source="site.code")
    part = serializers.CharField(source="part.number")
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    work_order = serializers.CharField(source="work_order.code", allow_null=True, default=None)
    sample_size = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    nonconforming = serializers.IntegerField()
    result_note = serializers.CharField(allow_blank=True)
    characteristics = CharacteristicOut(many=True, source="plan.characteristics.all")


class InspectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InspectionStatus.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    site = django_filters.CharFilter(field_name="site__code")
    lot = django_filters.CharFilter(field_name="lot__code")
    work_order = django_filters.CharFilter(field_name="work_order__code")
    open = StrictBooleanFilter(method="open_only", label=_("open (due work) only"))

    class Meta:
        model = Inspection
        fields = ["status", "stage", "site", "lot", "work_order", "open"]

    def open_only(self, qs, name, value):
        opened = [InspectionStatus.PENDING, InspectionStatus.IN_PROGRESS]
        return qs.filter(status__in=opened) if value else qs.exclude(status__in=opened)


def _inspections(user):
    return (
        Inspection.objects.filter(site_id__in=policy.sites_for(user, "inspection.view"))
        .select_related("site", "part", "lot", "work_order", "plan")
        .prefetch_related("plan__characteristics")
    )


@read("inspection.view")
class InspectionList(ListModelMixin, ApiView):
    serializer_class = InspectionOut
    filterset_class = InspectionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no caller, no site scope
            return Inspection._base_manager.none()
        return _inspections(self.request.user).order_by("due_at", "pk")

    @extend_schema(
        tags=TAG,
        summary="Inspections: due work (`open=true`, most urgent first) and results",
        operation_id="inspections_list",
    )
    def get(self, request):
        return self.list(request)


@read("inspection.view")
class InspectionDetail(ApiView):
    serializer_class = InspectionOut

    @extend_schema(tags=TAG, summary="One inspection with its characteristics and result")
    def get(self, request, code):
        insp = self.found(_inspections(request.user).filter(code=code).first())
        return Response(InspectionOut(insp).data)


@read("reports.export")
class LotCoa(ApiView):
    serializer_class = None

    @extend_schema(
        tags=TAG,
        summary="Certificate of Analysis (PDF) of a lot, as the reports page makes it",
        parameters=[OpenApiParameter("lang", OpenApiTypes.STR, enum=["en", "zh-hans"], required=False)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        operation_id="lots_coa",
    )
    def get(self, request, code):
        lot = self.found(lot_by_code(code))
        self.require_site("reports.export", lot.site)
        lang = request.query_params.get("lang") or request.LANGUAGE_CODE
        try:
            pdf, stored = render_report_pdf(
                key="inspection.coa", params={"lot": lot.code}, language=lang, user=request.user
            )
        except ReportError as exc:
            raise serializers.ValidationError({"lang" if exc.field == "lang" else "lot": [exc.message]}) from None
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stored.document_number if stored else lot.code}.pdf"'
        if stored:
            response["X-PDF-SHA256"] = stored.sha256
        return response


# ------------------------------------------------------------------------------------------------ NCR


class NcrLotIn(serializers.Serializer):
    lot = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)


class NcrIn(serializers.Serializer):
    site = serializers.CharField(max_length=20)
    part = serializers.CharField(max_length=60)
    part_revision = serializers.CharField(max_length=10, required=False, allow_blank=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    source = serializers.ChoiceField(choices=NcrSource.choices, default=NcrSource.PRODUCTION)
    source_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MAJOR)
    lots = NcrLotIn(many=True, required=False, max_length=200)


class NcrOut(serializers.Serializer):
    code = serializers.CharField()
    site = serializers.CharField(source="site.code")
    title = serializers.CharField()
    status = serializers.CharField()
    severity = serializers.CharField()
    source = serializers.CharField()
    source_reference = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


@read("ncr.view", post="ncr.create")
class NcrCreate(ApiView):
    serializer_class = NcrIn

    @extend_schema(
        tags=TAG,
        summary="Open an NCR (e.g. a defect found by the MES); holds the lots named",
        request=NcrIn,
        responses={201: NcrOut},
        operation_id="ncrs_create",
    )
    def post(self, request):
        ser = NcrIn(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        site = lookups.site(request.user, d["site"], "ncr.create")
        lots = [
            (lookups.lot(item["lot"], field=f"lots/{i}/lot"), item["quantity"])
            for i, item in enumerate(d.get("lots") or [])
        ]
        ncr = nc_services.ncr_open(
            site=site,
            source=d["source"],
            part=lookups.part(d["part"], d.get("part_revision", "")),
            title=d["title"],
            description=d["description"],
            severity=d["severity"],
            source_reference=d["source_reference"],
            lots=lots,
            user=request.user,
        )
        return Response(NcrOut(ncr).data, status=201)


@read("ncr.view")
class NcrDetail(ApiView):
    serializer_class = NcrOut

    @extend_schema(tags=TAG, summary="An NCR's status")
    def get(self, request, code):
        ncr = self.found(Ncr.objects.select_related("site").filter(code=code).first())
        self.require_site("ncr.view", ncr.site)
        return Response(NcrOut(ncr).data)


class ComplaintIn(serializers.Serializer):
    site = serializers.CharField(max_length=20)
    customer = serializers.CharField(max_length=30)
    part = serializers.CharField(max_length=60)
    part_revision = serializers.CharField(max_length=10, required=False, allow_blank=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    response_due_on = serializers.DateField()
    received_on = serializers.DateField(required=False, allow_null=True)
    lot = serializers.CharField(max_length=60, required=False, allow_blank=True)
    serial = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MAJOR)
    quantity_affected = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, default=0)
    customer_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ComplaintOut(serializers.Serializer):
    code = serializers.CharField()
    site = serializers.CharField(source="site.code")
    customer = serializers.CharField(source="customer.code")
    title = serializers.CharField()
    status = serializers.CharField()
    response_due_on = serializers.DateField()


@read("ncr.view", post="complaints.manage")
class ComplaintCreate(ApiView):
    serializer_class = ComplaintIn

    @extend_schema(
        tags=TAG,
        summary="Record a customer complaint (CRM)",
        request=ComplaintIn,
        responses={201: ComplaintOut},
        operation_id="complaints_create",
    )
    def post(self, request):
        ser = ComplaintIn(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        complaint = nc_services.complaint_create(
            site=lookups.site(request.user, d["site"], "complaints.manage"),
            customer=lookups.customer(d["customer"]),
            part=lookups.part(d["part"], d.get("part_revision", "")),
            title=d["title"],
            description=d["description"],
            response_due_on=d["response_due_on"],
            received_on=d.get("received_on"),
            lot=lookups.lot(d["lot"]) if d.get("lot") else None,
            serial=d["serial"],
            severity=d["severity"],
            quantity_affected=d["quantity_affected"],
            customer_reference=d["customer_reference"],
            user=request.user,
        )
        return Response(ComplaintOut(complaint).data, status=201)


class CapaOut(serializers.Serializer):
    code = serializers.CharField()
    site = serializers.CharField(source="site.code")
    title = serializers.CharField()
    status = serializers.CharField()
    kind = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    ncr = serializers.CharField(source="ncr.code", allow_null=True, default=None)


@read("capa.view")
class CapaDetail(ApiView):
    serializer_class = CapaOut

    @extend_schema(tags=TAG, summary="A CAPA's status")
    def get(self, request, code):
        capa = self.found(Capa.objects.select_related("site", "ncr").filter(code=code).first())
        self.require_site("capa.view", capa.site)
        return Response(CapaOut(capa).data)
