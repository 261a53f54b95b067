from django.urls import path

from . import views

app_name = "audits"
urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("programme/new/", views.programme_create, name="programme_create"),
    path("programme/<int:pk>/plan/", views.audit_create, name="audit_create"),
    path("item/<int:pk>/", views.item_record, name="item_record"),
    path("finding/<int:pk>/assign/", views.finding_assign, name="finding_assign"),
    path("finding/<int:pk>/close/", views.finding_close, name="finding_close"),
    path("<str:code>/", views.audit_detail, name="audit_detail"),
    path("<str:code>/start/", views.audit_start, name="audit_start"),
    path("<str:code>/finding/", views.finding_create, name="finding_create"),
    path("<str:code>/complete/", views.audit_complete, name="audit_complete"),
    path("<str:code>/close/", views.audit_close, name="audit_close"),
    path("<str:code>/cancel/", views.audit_cancel, name="audit_cancel"),
]
