from django.urls import path

from . import views

app_name = "packs"

urlpatterns = [
    path("", views.index, name="index"),
    path("lot/", views.lot_bundle, name="lot_bundle"),
    path("control-plans/generate/", views.control_plan_generate, name="control_plan_generate"),
    path("control-plans/<int:pk>/", views.control_plan, name="control_plan"),
    path("manifests/<int:pk>/", views.manifest, name="manifest"),
    path("retention/", views.retention, name="retention"),
]
