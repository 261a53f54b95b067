from django.urls import path

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.change_list, name="change_list"),
    path("new/", views.change_create, name="change_create"),
    path("impact/<int:pk>/", views.impact_set, name="impact_set"),
    path("task/<int:pk>/done/", views.task_complete, name="task_complete"),
    path("task/<int:pk>/ppap/", views.task_ppap, name="task_ppap"),
    path("task/<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("check/<int:pk>/", views.effectiveness, name="effectiveness"),
    path("<str:code>/", views.change_detail, name="change_detail"),
    path("<str:code>/submit/", views.change_submit, name="change_submit"),
    path("<str:code>/suggest/", views.impact_suggest, name="impact_suggest"),
    path("<str:code>/impact/", views.impact_add, name="impact_add"),
    path("<str:code>/assessment/", views.assessment, name="assessment"),
    path("<str:code>/board/", views.board_sign, name="board_sign"),
    path("<str:code>/task/", views.task_add, name="task_add"),
    path("<str:code>/implemented/", views.implemented, name="implemented"),
    path("<str:code>/output/", views.output_link, name="output_link"),
    path("<str:code>/close/", views.change_close, name="change_close"),
    path("<str:code>/cancel/", views.change_cancel, name="change_cancel"),
]
