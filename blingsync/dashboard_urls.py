"""URLs of the staff dashboard (mounted at /dashboard/)."""

urlpatterns: list = []
