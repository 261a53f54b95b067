from django.urls import path

from . import views

app_name = "traceability"
urlpatterns = [
    path("", views.lot_list, name="lots"),
    path("receive/", views.lot_receive, name="receive"),
    path("import/", views.lot_import, name="lot_import"),
    path("l/<code:code>/", views.lot_detail, name="lot"),
    path("l/<code:code>/label/", views.lot_label, name="label"),
    path("l/<code:code>/<str:action>/", views.lot_action, name="lot_action"),
    path("trace/", views.trace_page, name="trace"),
    path("trace/<code:code>.csv", views.trace_csv, name="trace_csv"),
    path("recalls/", views.recall_list, name="recalls"),
    path("recalls/<code:code>/", views.recall_detail, name="recall"),
    path("recalls/<code:code>/letters/<int:rc_id>/", views.recall_letter, name="recall_letter"),
    path("work-orders/", views.work_order_list, name="work_orders"),
    path("work-orders/<code:code>/", views.work_order_detail, name="work_order"),
    path("p/<str:token>/", views.public_trace, name="public"),
]
