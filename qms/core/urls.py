from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("inbox/", views.inbox, name="inbox"),
    path("master-data/", views.master_data, name="master_data"),
    path("master-data/<str:kind>/", views.master_data, name="master_data_kind"),
    path("master-data/parts/<int:pk>/cost/", views.part_cost, name="part_cost"),
    path("equipment/<str:code>/calibration/", views.equipment_calibrate, name="equipment_calibrate"),
    path("import/", views.import_view, name="import"),
]
