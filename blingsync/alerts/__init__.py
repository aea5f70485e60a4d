"""E-mail alerts and the daily summary (SPEC 5.13): what to tell the retailer, to whom, when."""
