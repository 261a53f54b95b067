from django.urls import path

from . import views

app_name = "capa"
urlpatterns = [
    path("", views.capa_list, name="capa_list"),
    path("new/", views.capa_create, name="capa_create"),
    path("scar/new/", views.scar_create, name="scar_create"),
    path("scar/<str:code>/", views.scar_detail, name="scar_detail"),
    path("scar/<str:code>/send/", views.scar_send, name="scar_send"),
    path("scar/<str:code>/response/", views.scar_response, name="scar_response"),
    path("scar/<str:code>/accept/", views.scar_accept, name="scar_accept"),
    path("scar/<str:code>/reject/", views.scar_reject, name="scar_reject"),
    path("action/<int:pk>/done/", views.action_complete, name="action_complete"),
    path("check/<int:pk>/", views.effectiveness_record, name="effectiveness_record"),
    path("<str:code>/", views.capa_detail, name="capa_detail"),
    path("<str:code>/edit/", views.capa_edit, name="capa_edit"),
    path("<str:code>/team/", views.team_add, name="team_add"),
    path("<str:code>/action/", views.action_add, name="action_add"),
    path("<str:code>/actions-close/", views.actions_close, name="actions_close"),
    path("<str:code>/close/", views.capa_close, name="capa_close"),
    path("<str:code>/cancel/", views.capa_cancel, name="capa_cancel"),
]
