from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:provider>/card/", views.card, name="card"),
    path("<slug:provider>/connect/", views.connect, name="connect"),
    path("<slug:provider>/key/", views.update_key, name="update_key"),
    path("<slug:provider>/sync/", views.sync_now, name="sync_now"),
    path("<slug:provider>/disconnect/", views.disconnect, name="disconnect"),
    path("<slug:provider>/settings/", views.save_settings, name="settings"),
    path("retry/<slug:record_type>/<int:record_id>/", views.retry_push, name="retry_push"),
]
