"""URL map of the site."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from blingsync.operations import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("health/", views.health, name="health"),
    path("bling/", include("blingsync.connect.urls")),
    path("dashboard/", include("blingsync.operations.dashboard_urls")),
    path("webhooks/", include("webhooks.urls")),
    path("admin/", admin.site.urls),
]
