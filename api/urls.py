from django.urls import include, path, re_path

from . import views
from .v1 import lots, masterdata, measurements, production, quality, webhooks
from .v1.base import NoSuchAddress

app_name = "api"

v1 = [
    path("lots/", lots.LotList.as_view(), name="lots"),
    path("lots/receipts/", lots.LotReceive.as_view(), name="lot_receive"),
    path("lots/<str:code>/", lots.LotDetail.as_view(), name="lot"),
    path("lots/<str:code>/ship-check/", lots.LotShipCheck.as_view(), name="lot_ship_check"),
    path("lots/<str:code>/consume-check/", lots.LotConsumeCheck.as_view(), name="lot_consume_check"),
    path("lots/<str:code>/genealogy/", lots.LotGenealogy.as_view(), name="lot_genealogy"),
    path("lots/<str:code>/trace/", lots.LotTrace.as_view(), name="lot_trace"),
    path("lots/<str:code>/recall-scope/", lots.LotRecallScope.as_view(), name="lot_recall_scope"),
    path("consumptions/", lots.Consumption.as_view(), name="consumptions"),
    path("shipments/", lots.ShipmentCreate.as_view(), name="shipments"),
    path("work-orders/<str:code>/", production.WorkOrderDetail.as_view(), name="work_order"),
    path(
        "work-orders/<str:code>/operations/<int:sequence>/start/",
        production.OperationStart.as_view(),
        name="operation_start",
    ),
    path(
        "work-orders/<str:code>/operations/<int:sequence>/finish/",
        production.OperationFinish.as_view(),
        name="operation_finish",
    ),
    path(
        "work-orders/<str:code>/production-records/",
        production.ProductionRecordCreate.as_view(),
        name="production_records",
    ),
    path("measurements/", measurements.MeasurementsPush.as_view(), name="measurements"),
    path("lots/<str:code>/coa.pdf", quality.LotCoa.as_view(), name="lot_coa"),
    path("inspections/", quality.InspectionList.as_view(), name="inspections"),
    path("inspections/<str:code>/", quality.InspectionDetail.as_view(), name="inspection"),
    path("ncrs/", quality.NcrCreate.as_view(), name="ncrs"),
    path("ncrs/<str:code>/", quality.NcrDetail.as_view(), name="ncr"),
    path("complaints/", quality.ComplaintCreate.as_view(), name="complaints"),
    path("capas/<str:code>/", quality.CapaDetail.as_view(), name="capa"),
    path("parts/", masterdata.PartsUpsert.as_view(), name="parts"),
    path("customers/", masterdata.CustomersUpsert.as_view(), name="customers"),
    path("equipment/", masterdata.EquipmentUpsert.as_view(), name="equipment"),
    path("suppliers/", masterdata.SupplierList.as_view(), name="suppliers"),
    path("suppliers/<str:code>/", masterdata.SupplierDetail.as_view(), name="supplier"),
    path("webhooks/", webhooks.SubscriptionList.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.SubscriptionDetail.as_view(), name="webhook"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery>/replay/",
        webhooks.DeliveryReplay.as_view(),
        name="webhook_delivery_replay",
    ),
    re_path(r"^[\s\S]*$", NoSuchAddress.as_view(), name="no_such_address"),
]

urlpatterns = [
    path("schema/", views.schema, name="schema"),
    path("docs/", views.docs, name="docs"),
    path("integrations/", views.accounts, name="accounts"),
    path("integrations/new/", views.account_create, name="account_create"),
    path("integrations/<int:pk>/", views.account_detail, name="account"),
    path("v1/", include(v1)),
]
