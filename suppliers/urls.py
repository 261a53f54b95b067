from django.urls import path

from . import views

app_name = "suppliers"
urlpatterns = [
    path("", views.supplier_list, name="list"),
    path("new/", views.supplier_create, name="create"),
    path("<int:pk>/", views.supplier_detail, name="detail"),
    path("<int:pk>/edit/", views.supplier_edit, name="edit"),
    path("<int:pk>/decide/<str:action>/", views.supplier_decide, name="decide"),
    path("<int:pk>/audits/new/", views.audit_record, name="audit_record"),
    path("<int:pk>/certificates/new/", views.certificate_upload, name="certificate_upload"),
    path("<int:pk>/asl/new/", views.asl_create, name="asl_create"),
    path("<int:pk>/ppap/new/", views.ppap_create, name="ppap_create"),
    path("certificates/", views.certificate_list, name="certificates"),
    path("certificates/<int:pk>/", views.certificate_review, name="certificate_review"),
    path("certificates/<int:pk>/void/", views.certificate_void, name="certificate_void"),
    path("certificates/<int:pk>/file/", views.certificate_download, name="certificate_download"),
    path("asl/<int:pk>/decide/<str:action>/", views.asl_decide, name="asl_decide"),
    path("ppap/<int:pk>/", views.ppap_detail, name="ppap_detail"),
    path("ppap/<int:pk>/submit/", views.ppap_submit, name="ppap_submit"),
    path("ppap/<int:pk>/return/", views.ppap_return, name="ppap_return"),
    path("ppap/<int:pk>/decide/<str:action>/", views.ppap_decide, name="ppap_decide"),
    path("ppap/elements/<int:pk>/review/", views.ppap_element_review, name="ppap_element_review"),
    path("ppap/elements/<int:pk>/attach/", views.ppap_attach, name="ppap_attach"),
    path("ppap/attachments/<int:pk>/", views.ppap_attachment_download, name="ppap_attachment_download"),
    path("scorecards/", views.scorecard_list, name="scorecards"),
]
