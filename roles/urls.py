from django.urls import path

from . import views

app_name = "roles"

urlpatterns = [
    path("", views.role_list, name="list"),
    path("<int:pk>/", views.role_detail, name="detail"),
    path("<int:pk>/edit/", views.role_edit, name="edit"),
]
