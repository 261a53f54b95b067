"""Master data: upsert parts, customers and equipment (with calibration dates) through the import kinds the
CSV import uses (every record checked first, nothing written unless all are good); suppliers read."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from qms.core import policy
from qms.core.importing import import_records
from suppliers.models import Supplier

from ..problems import BulkRefused
from .base import ApiView, read

TAG = ["master data"]
MAX_RECORDS = 1000


class UpsertIn(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField(), allow_empty=False),
        allow_empty=False,
        max_length=MAX_RECORDS,
        help_text=gettext_lazy("Records with the columns of the CSV import of this kind (README, import_data)."),
    )


class UpsertOut(serializers.Serializer):
    kind = serializers.CharField()
    received = serializers.IntegerField()
    written = serializers.IntegerField(help_text=gettext_lazy("Records created or changed."))


class Upsert(ApiView):
    kind = ""
    serializer_class = UpsertIn

    def post(self, request):
        ser = UpsertIn(data=request.data)
        ser.is_valid(raise_exception=True)
        items = ser.validated_data["items"]
        if any(isinstance(v, (dict, list)) for item in items for v in item.values()):
            raise serializers.ValidationError({"items": [_("Each value is a text, a number or true/false.")]})
        report = import_records(kind=self.kind, records=items, user=request.user)
        if report.errors:
            raise BulkRefused(
                _("%(n)s records were refused; nothing was written.") % {"n": len(report.errors)},
                errors=[{"pointer": f"#/items/{line}", "detail": str(msg)} for line, msg in report.errors],
            )
        return Response({"kind": self.kind, "received": len(items), "written": report.written})


def _upsert(kind: str, summary: str, perm: str):
    @read("masterdata.view", post=perm)
    class View(Upsert):
        @extend_schema(
            tags=TAG, summary=summary, request=UpsertIn, responses={200: UpsertOut}, operation_id=f"{kind}_upsert"
        )
        def post(self, request):
            return super().post(request)

    View.kind = kind
    View.__name__ = View.__qualname__ = f"{kind.title()}Upsert"
    return View


PartsUpsert = _upsert(
    "parts", "Create or update parts (number, name, type, unit, revision, shelf_life_days, …)", "masterdata.import"
)
CustomersUpsert = _upsert(
    "customers", "Create or update customers (code, name, email, country, …)", "masterdata.import"
)
EquipmentUpsert = _upsert(
    "equipment",
    "Create or update equipment with calibration dates (code, name, kind, site, calibration_due)",
    "masterdata.import",
)


class SupplierOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    category = serializers.CharField()
    risk_level = serializers.CharField()


@read("suppliers.view")
class SupplierList(ListModelMixin, ApiView):
    serializer_class = SupplierOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no caller, no site scope
            return Supplier._base_manager.none()
        qs = Supplier.objects.order_by("code")
        status = self.request.query_params.get("status")
        return qs.filter(status=status) if status else qs

    @extend_schema(
        tags=TAG, summary="Suppliers serving your sites, with their approval status", operation_id="suppliers_list"
    )
    def get(self, request):
        return self.list(request)


@read("suppliers.view")
class SupplierDetail(ApiView):
    serializer_class = SupplierOut

    @extend_schema(tags=TAG, summary="One supplier and its approval status")
    def get(self, request, code):
        supplier = self.found(Supplier.objects.filter(code=code).first())
        if not any(policy.can(request.user, "suppliers.view", s) for s in supplier.sites.values_list("pk", flat=True)):
            self.found(None)
        return Response(SupplierOut(supplier).data)
