"""Admin of products: categories."""
