from django.urls import path

from . import views

app_name = "traceability"
urlpatterns = [
    path("", views.lot_list, name="lots"),
    path("receive/", views.lot_receive, name="receive"),
    path("l/<str:code>/", views.lot_detail, name="lot"),
    path("l/<str:code>/label/", views.lot_label, name="label"),
    path("l/<str:code>/<str:action>/", views.lot_action, name="lot_action"),
    path("trace/", views.trace_page, name="trace"),
    path("trace/<str:code>.csv", views.trace_csv, name="trace_csv"),
    path("recalls/", views.recall_list, name="recalls"),
    path("recalls/<str:code>/", views.recall_detail, name="recall"),
    path("recalls/<str:code>/letters/<int:rc_id>/", views.recall_letter, name="recall_letter"),
    path("work-orders/", views.work_order_list, name="work_orders"),
    path("work-orders/<str:code>/", views.work_order_detail, name="work_order"),
    path("p/<str:token>/", views.public_trace, name="public"),
]
