from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("objectives/<int:pk>/", views.objective_detail, name="objective"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<str:code>/", views.alarm_detail, name="alarm"),
]
