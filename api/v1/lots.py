"""Lots: receive (the supplier gate answers with reasons), read with status, holds and release, "may it
ship / be consumed?", genealogy, consumption, shipments, trace and recall scope."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from inspection.models import LotRelease
from qms.core import policy
from traceability import selectors, services
from traceability.models import IN_STOCK, Lot, LotLink, LotStatus

from . import lookups
from . import serializers as s
from .base import ApiView, read
from .filters import UtcDateTimeFilter

TAG = ["lots"]


def _release(lot):
    rel = LotRelease.objects.select_related("released_by").filter(lot=lot).first()
    if rel is None:
        return None
    return {
        "note_number": rel.note_number,
        "released_at": rel.released_at,
        "released_by": rel.released_by.username,
        "automatic": rel.automatic,
    }


def _lot_in_scope(view, code: str, perm: str) -> Lot:
    lot = view.found(selectors.lot_by_code(code))
    view.require_site(perm, lot.site)
    return lot


class LotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LotStatus.choices)
    site = django_filters.CharFilter(field_name="site__code")
    part = django_filters.CharFilter(field_name="part__number")
    supplier = django_filters.CharFilter(field_name="supplier__code")
    supplier_lot = django_filters.CharFilter(field_name="supplier_lot_code")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Lot
        fields = ["status", "site", "part", "supplier", "supplier_lot", "created_after"]


@read("lots.view")
class LotList(ListModelMixin, ApiView):
    serializer_class = s.LotSerializer
    filterset_class = LotFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no caller, no site scope
            return Lot._base_manager.none()
        return (
            Lot.objects.filter(site_id__in=policy.sites_for(self.request.user, "lots.view"))
            .select_related("part", "site", "supplier", "work_order")
            .prefetch_related(selectors.active_holds_prefetch())
            .order_by("-created_at", "-id")
        )

    @extend_schema(tags=TAG, summary="List lots", operation_id="lots_list")
    def get(self, request):
        return self.list(request)


@read("lots.view", post="lots.receive")
class LotReceive(ApiView):
    serializer_class = s.LotReceiveSerializer

    @extend_schema(
        tags=TAG,
        summary="Receive a purchased lot (ERP goods receipt)",
        description="Through the same supplier gate as the receiving page: an unapproved supplier, a "
        "suspended part or an expired certificate refuses the receipt (422) with `reasons`.",
        request=s.LotReceiveSerializer,
        responses={201: s.LotDetailSerializer},
        operation_id="lots_receive",
    )
    def post(self, request):
        ser = s.LotReceiveSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        site = lookups.site(request.user, d["site"], "lots.receive")
        lot = services.lot_receive(
            site=site,
            part=lookups.part(d["part"], d.get("part_revision", "")),
            supplier=lookups.supplier(d["supplier"]),
            supplier_lot_code=d["supplier_lot"],
            quantity=d["quantity"],
            code=d.get("code") or None,
            expires_on=d.get("expires_on"),
            user=request.user,
        )
        return Response(_detail(lot, reload=True), status=201)


def _detail(lot, *, reload: bool = False) -> dict:
    if reload:
        lot = Lot.objects.select_related("part", "site", "supplier", "work_order").get(pk=lot.pk)
    lot._active_holds = lot.active_holds()
    data = s.LotSerializer(lot).data
    data["release"] = _release(lot)
    verdict = services.lot_can_ship(lot=lot)
    data["may_ship"] = {"ok": verdict.ok, "reasons": verdict.reasons}
    return data


@read("lots.view")
class LotDetail(ApiView):
    serializer_class = s.LotDetailSerializer

    @extend_schema(tags=TAG, summary="A lot: status, active holds, release and whether it may ship")
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "lots.view")
        return Response(_detail(lot))


@read("lots.view")
class LotShipCheck(ApiView):
    serializer_class = s.CheckSerializer

    @extend_schema(tags=TAG, summary="May this lot ship? (WMS)", operation_id="lots_ship_check")
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "lots.view")
        lot._active_holds = lot.active_holds()
        verdict = services.lot_can_ship(lot=lot)
        return Response({"lot": lot.code, "ok": verdict.ok, "reasons": verdict.reasons})


@read("lots.view")
class LotConsumeCheck(ApiView):
    serializer_class = s.CheckSerializer

    @extend_schema(
        tags=TAG,
        summary="May this lot be consumed into a produced lot? (MES)",
        parameters=[
            OpenApiParameter("into", OpenApiTypes.STR, required=True, description="The produced lot's code."),
            OpenApiParameter("quantity", OpenApiTypes.DECIMAL, required=False),
        ],
        operation_id="lots_consume_check",
    )
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "lots.view")
        q = s.ConsumeCheckQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        into = lookups.lot(q.validated_data["into"], field="into")
        reasons = services.consume_reasons(lot=lot, into=into, quantity=q.validated_data.get("quantity"))
        return Response({"lot": lot.code, "ok": not reasons, "reasons": [str(r) for r in reasons]})


def _link_rows(links, attr: str) -> list[dict]:
    return [
        {
            "lot": getattr(link, attr).code,
            "quantity": link.quantity,
            "work_order": link.work_order.code if link.work_order_id else None,
            "created_at": link.created_at,
        }
        for link in links
    ]


@read("trace.view")
class LotGenealogy(ApiView):
    serializer_class = s.GenealogySerializer

    @extend_schema(tags=TAG, summary="Direct genealogy: what went into the lot and where it went")
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "trace.view")
        parents = LotLink.objects.filter(child=lot).select_related("parent", "work_order").order_by("pk")
        children = LotLink.objects.filter(parent=lot).select_related("child", "work_order").order_by("pk")
        data = {
            "lot": lot.code,
            "consumed": _link_rows(parents, "parent"),
            "consumed_into": _link_rows(children, "child"),
        }
        return Response(s.GenealogySerializer(data).data)


@read("trace.view")
class LotTrace(ApiView):
    serializer_class = s.TraceSerializer

    @extend_schema(
        tags=TAG,
        summary="Trace backward (where from) or forward (where used)",
        parameters=[OpenApiParameter("direction", OpenApiTypes.STR, enum=["backward", "forward"], required=False)],
    )
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "trace.view")
        direction = request.query_params.get("direction", "backward")
        if direction not in ("backward", "forward"):
            raise serializers.ValidationError({"direction": [str(_("Use backward or forward."))]})
        rows = (selectors.trace_backward if direction == "backward" else selectors.trace_forward)(lot)
        visible = set(policy.sites_for(request.user, "trace.view"))
        code_of = {r["lot_id"]: r["code"] for r in rows}
        code_of[lot.pk] = lot.code
        lots = [
            {
                "lot": r["code"],
                "depth": r["depth"],
                "via": code_of.get(r["via_id"]),
                "quantity": r["quantity"],
                "status": r["status"],
            }
            for r in rows
            if r["site_id"] in visible
        ]
        return Response(s.TraceSerializer({"lot": lot.code, "direction": direction, "lots": lots}).data)


@read("recall.view")
class LotRecallScope(ApiView):
    serializer_class = s.RecallScopeSerializer

    @extend_schema(tags=TAG, summary="What a recall of this lot would reach: lots, stock, customers")
    def get(self, request, code):
        lot = _lot_in_scope(self, code, "recall.view")
        scope = selectors.recall_scope(lot)
        visible = set(policy.sites_for(request.user, "recall.view"))
        lots = [
            {
                "lot": r["code"],
                "depth": r["depth"],
                "status": r["status"],
                "in_stock": r["status"] in IN_STOCK,
            }
            for r in scope["lots"]
            if r["site_id"] in visible
        ]
        customers = [
            {
                "customer": e["customer"].code,
                "name": e["customer"].name,
                "quantity": e["quantity"],
                "shipments": e["shipments"],
                "lots": e["lots"],
            }
            for e in scope["customers"]
        ]
        data = {
            "lot": lot.code,
            "lot_count": len(lots),
            "in_stock_count": sum(1 for r in lots if r["in_stock"]),
            "shipped_quantity": scope["shipped_quantity"],
            "lots": lots,
            "customers": customers,
        }
        return Response(s.RecallScopeSerializer(data).data)


@read("lots.view", post="lots.produce")
class Consumption(ApiView):
    serializer_class = s.ConsumeSerializer

    @extend_schema(
        tags=TAG,
        summary="Record material consumed into a produced lot (MES)",
        request=s.ConsumeSerializer,
        responses={201: s.ConsumedSerializer},
        operation_id="consumptions_create",
    )
    def post(self, request):
        ser = s.ConsumeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        into = lookups.lot(d["into"], field="into")
        self.require_site("lots.produce", into.site)
        link = services.lot_consume(lot=lookups.lot(d["lot"]), into=into, quantity=d["quantity"], user=request.user)
        data = {
            "lot": d["lot"],
            "into": into.code,
            "quantity": link.quantity,
            "work_order": into.work_order.code if into.work_order_id else None,
        }
        return Response(s.ConsumedSerializer(data).data, status=201)


@read("lots.view", post="lots.ship")
class ShipmentCreate(ApiView):
    serializer_class = s.ShipmentInSerializer

    @extend_schema(
        tags=TAG,
        summary="Record a shipment (WMS); refused with reasons when the lot may not ship",
        request=s.ShipmentInSerializer,
        responses={201: s.ShipmentSerializer},
        operation_id="shipments_create",
    )
    def post(self, request):
        ser = s.ShipmentInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        lot = lookups.lot(d["lot"])
        self.require_site("lots.ship", lot.site)
        shipment = services.shipment_create(
            lot=lot,
            customer=lookups.customer(d["customer"]),
            quantity=d["quantity"],
            shipped_on=d.get("shipped_on"),
            delivery_note=d.get("delivery_note", ""),
            serials=d.get("serials") or None,
            user=request.user,
        )
        return Response(s.ShipmentSerializer(shipment).data, status=201)
