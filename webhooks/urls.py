"""URLs of the webhook receiver (mounted at /webhooks/)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("bling/", views.bling_webhook, name="webhook-bling"),
]
