"""URL map of the site."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from blingsync.operations import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("health/", views.health, name="health"),
    # Browsers ask for /favicon.ico on every page (JSON ones too): no 404 in the logs.
    path("favicon.ico", views.favicon, name="favicon"),
    path("bling/", include("blingsync.connect.urls")),
    path("dashboard/", include("blingsync.operations.dashboard_urls")),
    path("webhooks/", include("webhooks.urls")),
    path("admin/", admin.site.urls),
]

# A styled refusal naming the role that is needed (blingsync.forbidden).
handler403 = "blingsync.forbidden.permission_denied_view"
