"""The admin site's names and front page (our index template links the dashboard)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = "blingsync"
admin.site.site_title = "blingsync"
admin.site.index_title = _("Administração")
admin.site.index_template = "admin/blingsync_index.html"
# The "view site" link would only lead back here; the dashboard link replaces it.
admin.site.site_url = None
# No app list beside every page: at 1,366 px it took the room the lists need (the index and
# the breadcrumbs lead everywhere).
admin.site.enable_nav_sidebar = False
