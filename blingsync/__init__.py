"""blingsync: keeps a retailer's Bling ERP catalog in order (project package and core app)."""
