from django.urls import path

from . import views

app_name = "batchrecords"
urlpatterns = [
    path("", views.index, name="index"),
    path("masters/", views.mbr_list, name="mbr_list"),
    path("masters/new/", views.mbr_create, name="mbr_create"),
    path("masters/<str:code>/", views.mbr_detail, name="mbr_detail"),
    path("masters/<str:code>/step/", views.mbr_step_add, name="mbr_step_add"),
    path("masters/<str:code>/parameter/", views.mbr_parameter_add, name="mbr_parameter_add"),
    path("masters/<str:code>/material/", views.mbr_material_add, name="mbr_material_add"),
    path("masters/<str:code>/version/", views.mbr_new_version, name="mbr_new_version"),
    path("masters/<str:code>/approve/", views.mbr_approve, name="mbr_approve"),
    path("records/new/", views.ebr_create, name="ebr_create"),
    path("records/<str:code>/", views.ebr_detail, name="ebr_detail"),
    path("records/<str:code>/step/<int:pk>/perform/", views.ebr_step_perform, name="ebr_step_perform"),
    path("records/<str:code>/step/<int:pk>/verify/", views.ebr_step_verify, name="ebr_step_verify"),
    path("records/<str:code>/dispense/", views.ebr_dispense, name="ebr_dispense"),
    path("records/<str:code>/yield/", views.ebr_yield, name="ebr_yield"),
    path("records/<str:code>/complete/", views.ebr_complete, name="ebr_complete"),
    path("records/<str:code>/review/", views.ebr_review, name="ebr_review"),
    path("deviations/", views.deviation_list, name="deviation_list"),
    path("deviations/new/", views.deviation_create, name="deviation_create"),
    path("deviations/<str:code>/", views.deviation_detail, name="deviation_detail"),
    path("deviations/<str:code>/assess/", views.deviation_assess, name="deviation_assess"),
    path("deviations/<str:code>/lot/", views.deviation_lot_add, name="deviation_lot_add"),
    path("deviations/<str:code>/capa/", views.deviation_capa, name="deviation_capa"),
    path("deviations/<str:code>/approve/", views.deviation_approve, name="deviation_approve"),
]
