"""URLs of the Bling connection flow (mounted at /bling/): connect, OAuth callback and the
confirmation of a reconnect to another company."""

from django.urls import path

from blingsync.connect import views

urlpatterns = [
    path("connect/", views.bling_connect, name="bling-connect"),
    path("callback/", views.bling_callback, name="bling-callback"),
    path("confirm/", views.bling_connect_confirm, name="bling-connect-confirm"),
]
