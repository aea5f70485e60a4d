"""Admin of products: evidence."""
