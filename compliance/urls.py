from django.urls import path

from . import views

app_name = "compliance"
urlpatterns = [
    path("audit-trail/", views.audit_trail, name="audit_trail"),
    path("audit-trail/verify/", views.audit_verify, name="audit_verify"),
    path("audit-trail/<str:model>/<str:object_id>/", views.record_trail, name="record_trail"),
    path("reports/", views.reports_index, name="reports"),
    path("reports/generated/", views.generated_reports, name="generated_reports"),
    path("reports/generated/<int:pk>/", views.generated_download, name="generated_download"),
    path("reports/<str:key>/pdf/", views.report_pdf, name="report_pdf"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("access-log/", views.access_log, name="access_log"),
]
