"""Admin of products: codes."""
