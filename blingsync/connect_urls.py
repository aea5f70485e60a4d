"""URLs of the Bling connection flow (mounted at /bling/): connect and OAuth callback."""

urlpatterns: list = []
