from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("inbox/", views.inbox, name="inbox"),
    path("master-data/", views.master_data, name="master_data"),
    path("master-data/<str:kind>/", views.master_data, name="master_data_kind"),
    path("equipment/<str:code>/calibration/", views.equipment_calibrate, name="equipment_calibrate"),
    path("import/", views.import_view, name="import"),
]
