"""URLs of the webhook receiver (mounted at /webhooks/)."""

urlpatterns: list = []
