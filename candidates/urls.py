from django.urls import path

from . import views

app_name = "candidates"

urlpatterns = [
    path("", views.candidate_list, name="list"),
    path("new/", views.candidate_create, name="create"),
    path("<int:pk>/", views.candidate_detail, name="detail"),
    path("<int:pk>/status/", views.candidate_status, name="status"),
    path("<int:pk>/edit/", views.candidate_edit, name="edit"),
    path("<int:pk>/delete/", views.candidate_delete, name="delete"),
    path("<int:pk>/resume/", views.candidate_resume, name="resume"),
    path("applications/<int:pk>/stage/", views.application_change_stage, name="application_stage"),
]
