"""URLs of the staff dashboard (mounted at /dashboard/), and the language switch of the admin
(Django's `set_language`, here so the admin's selector has somewhere to post)."""

from django.urls import path
from django.views.i18n import set_language

from blingsync.operations import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("idioma/", set_language, name="set_language"),
]
