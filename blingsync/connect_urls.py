"""URLs of the Bling connection flow (mounted at /bling/): connect and OAuth callback."""

from django.urls import path

from blingsync import connect_views

urlpatterns = [
    path("connect/", connect_views.bling_connect, name="bling-connect"),
    path("callback/", connect_views.bling_callback, name="bling-callback"),
]
