"""URLs of the Bling connection flow (mounted at /bling/): connect, OAuth callback and the
confirmation of a reconnect to another company."""

from django.urls import path

from blingsync import connect_views

urlpatterns = [
    path("connect/", connect_views.bling_connect, name="bling-connect"),
    path("callback/", connect_views.bling_callback, name="bling-callback"),
    path("confirm/", connect_views.bling_connect_confirm, name="bling-connect-confirm"),
]
