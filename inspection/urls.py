from django.urls import path

from . import spc_views, views

app_name = "inspection"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("start/", views.start, name="start"),
    path("open/", views.open_list, name="open"),
    path("release/", views.release_queue, name="release_queue"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/<str:action>/", views.plan_action, name="plan_action"),
    path("i/<str:code>/", views.detail, name="detail"),
    path("i/<str:code>/values/", views.record_values, name="record"),
    path("i/<str:code>/judge/", views.judge_value, name="judge"),
    path("i/<str:code>/photo/<int:pk>/", views.photo_download, name="photo"),
    path("i/<str:code>/complete/", views.complete, name="complete"),
    path("release/<code:lot_code>/", views.release, name="release"),
    path("switching/", views.switching_list, name="switching"),
    path("switching/<int:pk>/<str:action>/", views.switching_action, name="switching_action"),
    path("line-stops/", views.line_stops, name="line_stops"),
    path("setup/", views.ipqc_setup, name="setup"),
    path("setup/stations/new/", views.station_edit, name="station_new"),
    path("setup/stations/<int:pk>/", views.station_edit, name="station_edit"),
    path("setup/schedules/new/", views.schedule_edit, name="schedule_new"),
    path("setup/schedules/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    path("characteristics/<int:pk>/spc/", spc_views.chart, name="spc_chart"),
    path("characteristics/<int:pk>/spc/freeze/", spc_views.freeze, name="spc_freeze"),
    path("process-parameters/", spc_views.parameters, name="spc_parameters"),
    path("process-parameters/chart/", spc_views.parameter, name="spc_parameter"),
    path("line-stops/<int:pk>/correct/", views.line_stop_correct, name="line_stop_correct"),
    path("api/handover/<int:operation_id>/", views.handover, name="handover"),
]
