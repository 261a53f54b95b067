from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("trends/", views.trends, name="trends"),
    path("records/", views.records, name="records"),
    path("objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/", views.objective_detail, name="objective"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<str:code>/", views.alarm_detail, name="alarm"),
    path("alarms/<str:code>/acknowledge/", views.alarm_acknowledge, name="alarm_acknowledge"),
    path("alarms/<str:code>/resolve/", views.alarm_resolve, name="alarm_resolve"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("csv/<str:kind>/export/", views.export_csv, name="export"),
    path("csv/<str:kind>/import/", views.import_csv, name="import"),
]
