from django.urls import path

from . import views

app_name = "nonconformance"
urlpatterns = [
    path("", views.ncr_list, name="ncr_list"),
    path("new/", views.ncr_create, name="ncr_create"),
    path("pareto/", views.defect_pareto, name="defect_pareto"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_create, name="complaint_create"),
    path("complaints/<str:code>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<str:code>/ncr/", views.complaint_open_ncr, name="complaint_open_ncr"),
    path("complaints/<str:code>/respond/", views.complaint_respond, name="complaint_respond"),
    path("complaints/<str:code>/close/", views.complaint_close, name="complaint_close"),
    path("complaints/<str:code>/cancel/", views.complaint_cancel, name="complaint_cancel"),
    path("complaints/<str:code>/attach/", views.complaint_attach, name="complaint_attach"),
    path("complaints/<str:code>/recall/", views.complaint_recall, name="complaint_recall"),
    path("containment/<int:pk>/done/", views.containment_done, name="containment_done"),
    path("mrb/line/<int:pk>/void/", views.disposition_line_void, name="disposition_line_void"),
    path("mrb/line/<int:pk>/execute/", views.disposition_line_execute, name="disposition_line_execute"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("<str:code>/", views.ncr_detail, name="ncr_detail"),
    path("<str:code>/edit/", views.ncr_edit, name="ncr_edit"),
    path("<str:code>/containment/", views.ncr_containment, name="ncr_containment"),
    path("<str:code>/containment/add/", views.containment_add, name="containment_add"),
    path("<str:code>/suspect-stock/", views.suspect_stock, name="suspect_stock"),
    path("<str:code>/attach/", views.attachment_add, name="attachment_add"),
    path("<str:code>/mrb/", views.ncr_submit_mrb, name="ncr_submit_mrb"),
    path("<str:code>/mrb/line/", views.disposition_line_add, name="disposition_line_add"),
    path("<str:code>/mrb/submit/", views.disposition_submit, name="disposition_submit"),
    path("<str:code>/mrb/decide/", views.mrb_decide, name="mrb_decide"),
    path("<str:code>/verify/", views.ncr_verify, name="ncr_verify"),
    path("<str:code>/close/", views.ncr_close, name="ncr_close"),
    path("<str:code>/cancel/", views.ncr_cancel, name="ncr_cancel"),
]
