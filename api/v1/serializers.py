"""Shapes of the API v1 (requests are validated here for form only; every rule is the services')."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from traceability.models import LotStatus

Decimal = serializers.DecimalField  # quantities: strings in JSON, exact


def quantity_field(**kw):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kw)


class VerdictSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=_("True when allowed; otherwise `reasons` say why not."))
    reasons = serializers.ListField(child=serializers.CharField())


class PartRefSerializer(serializers.Serializer):
    number = serializers.CharField()
    revision = serializers.CharField()
    name = serializers.CharField()


class HoldSerializer(serializers.Serializer):
    source = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()
    placed_at = serializers.DateTimeField()


class ReleaseSerializer(serializers.Serializer):
    note_number = serializers.CharField()
    released_at = serializers.DateTimeField()
    released_by = serializers.CharField()
    automatic = serializers.BooleanField()


class LotSerializer(serializers.Serializer):
    code = serializers.CharField()
    part = PartRefSerializer()
    site = serializers.CharField(source="site.code")
    supplier = serializers.CharField(source="supplier.code", allow_null=True, default=None)
    supplier_lot_code = serializers.CharField(allow_blank=True)
    work_order = serializers.CharField(source="work_order.code", allow_null=True, default=None)
    quantity = quantity_field()
    unit = serializers.CharField()
    status = serializers.ChoiceField(choices=LotStatus.choices)
    received_on = serializers.DateField(allow_null=True)
    produced_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    holds = HoldSerializer(many=True, source="active_holds")


class LotDetailSerializer(LotSerializer):
    release = ReleaseSerializer(allow_null=True)
    may_ship = VerdictSerializer()


class LotReceiveSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=20, help_text=_("Site code, e.g. BRG."))
    part = serializers.CharField(max_length=60, help_text=_("Part number."))
    part_revision = serializers.CharField(max_length=10, required=False, allow_blank=True)
    supplier = serializers.CharField(max_length=30, help_text=_("Supplier code."))
    supplier_lot = serializers.CharField(max_length=60, help_text=_("The supplier's lot number on the delivery."))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)
    code = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text=_("Lot code; empty: one is drawn.")
    )
    expires_on = serializers.DateField(required=False, allow_null=True)


class CheckSerializer(VerdictSerializer):
    lot = serializers.CharField()


class TraceRowSerializer(serializers.Serializer):
    lot = serializers.CharField()
    depth = serializers.IntegerField()
    via = serializers.CharField(allow_null=True)
    quantity = quantity_field(allow_null=True)
    status = serializers.CharField()


class TraceSerializer(serializers.Serializer):
    lot = serializers.CharField()
    direction = serializers.ChoiceField(choices=["backward", "forward"])
    lots = TraceRowSerializer(many=True)


class RecallLotSerializer(serializers.Serializer):
    lot = serializers.CharField()
    depth = serializers.IntegerField()
    status = serializers.CharField()
    in_stock = serializers.BooleanField()


class RecallCustomerSerializer(serializers.Serializer):
    customer = serializers.CharField()
    name = serializers.CharField()
    quantity = quantity_field()
    shipments = serializers.IntegerField()
    lots = serializers.ListField(child=serializers.CharField())


class RecallScopeSerializer(serializers.Serializer):
    lot = serializers.CharField()
    lot_count = serializers.IntegerField()
    in_stock_count = serializers.IntegerField()
    shipped_quantity = quantity_field()
    lots = RecallLotSerializer(many=True)
    customers = RecallCustomerSerializer(many=True)


class LinkSerializer(serializers.Serializer):
    lot = serializers.CharField()
    quantity = quantity_field()
    work_order = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class GenealogySerializer(serializers.Serializer):
    lot = serializers.CharField()
    consumed = LinkSerializer(many=True, help_text=_("Lots consumed into this lot (parents)."))
    consumed_into = LinkSerializer(many=True, help_text=_("Lots this lot was consumed into (children)."))


class ConsumeSerializer(serializers.Serializer):
    lot = serializers.CharField(max_length=60, help_text=_("The lot consumed."))
    into = serializers.CharField(max_length=60, help_text=_("The produced lot it goes into."))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)


class ConsumedSerializer(serializers.Serializer):
    lot = serializers.CharField()
    into = serializers.CharField()
    quantity = quantity_field()
    work_order = serializers.CharField(allow_null=True)


class ShipmentInSerializer(serializers.Serializer):
    lot = serializers.CharField(max_length=60)
    customer = serializers.CharField(max_length=30, help_text=_("Customer code."))
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)
    shipped_on = serializers.DateField(required=False, allow_null=True)
    delivery_note = serializers.CharField(max_length=60, required=False, allow_blank=True)
    serials = serializers.ListField(child=serializers.CharField(max_length=80), required=False, max_length=10000)


class ShipmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot = serializers.CharField(source="lot.code")
    customer = serializers.CharField(source="customer.code")
    quantity = quantity_field()
    shipped_on = serializers.DateField()
    delivery_note = serializers.CharField(allow_blank=True)


class OperationSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)


class WorkOrderSerializer(serializers.Serializer):
    code = serializers.CharField()
    site = serializers.CharField(source="site.code")
    part = PartRefSerializer()
    line = serializers.CharField(source="line.code", allow_null=True, default=None)
    status = serializers.CharField()
    quantity_planned = quantity_field()
    operations = OperationSerializer(many=True, source="operation_list")


class ParameterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    value = serializers.DecimalField(max_digits=14, decimal_places=4)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    lower_limit = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    upper_limit = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)


class ProductionRecordInSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    operation = serializers.IntegerField(required=False, allow_null=True, help_text=_("Operation sequence number."))
    shift = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    equipment = serializers.CharField(max_length=40, required=False, allow_blank=True, help_text=_("Equipment code."))
    operators = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=50, help_text=_("User names.")
    )
    parameters = ParameterSerializer(many=True, required=False, max_length=500)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ProductionRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    work_order = serializers.CharField(source="work_order.code")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    parameters = serializers.IntegerField(source="parameter_count")


class ConsumeCheckQuery(serializers.Serializer):
    into = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
