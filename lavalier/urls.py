from django.contrib import admin
from django.urls import include, path

from accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("candidates/", include("candidates.urls")),
    path("roles/", include("roles.urls")),
    path("settings/integrations/", include("integrations.urls")),
    path("admin/", admin.site.urls),
    # The staff ops page at /ops/ and the health endpoints /healthz, /readyz, /healthz/worker.
    path("", include("ops.urls")),
]
