from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("new/", views.document_create, name="create"),
    path("training/", views.my_training, name="my_training"),
    path("training/matrix/", views.training_matrix, name="training_matrix"),
    path("training/records/", views.training_records, name="training_records"),
    path("training/task/<int:pk>/", views.training_acknowledge, name="training_acknowledge"),
    path("settings/", views.site_settings, name="settings"),
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/edit/", views.document_edit, name="edit"),
    path("<int:pk>/review/", views.document_review_record, name="review_record"),
    path("<int:pk>/obsolete/", views.document_obsolete, name="obsolete"),
    path("<int:pk>/requirement/", views.requirement_set, name="requirement"),
    path("<int:pk>/versions/new/", views.version_create, name="version_create"),
    path("version/<int:pk>/", views.version_detail, name="version"),
    path("version/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("version/<int:pk>/submit/", views.version_submit, name="version_submit"),
    path("version/<int:pk>/review/", views.version_review, name="version_review"),
    path("version/<int:pk>/approve/", views.version_approve, name="version_approve"),
    path("version/<int:pk>/withdraw/", views.version_withdraw, name="version_withdraw"),
    path("version/<int:pk>/file/", views.version_download, name="version_download"),
    path("version/<int:pk>/training/", views.training_instructor, name="training_instructor"),
]
