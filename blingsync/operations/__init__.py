"""Operations: the faces staff and monitors use, above `products/` and `webhooks/`.

E-mail alerts (checks, summary, content, recipients, links, schedule, admin), the dashboard,
the status and `/health/` readers, setting the mode, and the sweep schedules. This app reads
every floor below it; nothing below imports it.
"""
