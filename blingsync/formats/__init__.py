"""Date formats staff read in lists and pages (FORMAT_MODULE_PATH): a short day and time
instead of Django's long ones ("6 de Dezembro de 2026 às 23:16"), so the lists fit 1,366 px.
Every other format comes from Django's locale."""
