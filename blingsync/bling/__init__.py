"""The Bling v3 HTTP client: tokens, rate limits, retries, errors, and typed resource calls.

It knows HTTP and Bling, nothing about blingsync's product rules, and it is a leaf: it imports
Django, requests/urllib3/cryptography, its own modules and its own models
(`blingsync.bling.models`: the connection and the rate-limit bucket), never the app around it
(tests/bling/test_leaf.py checks it). What the app does with the client's work (API calls
counted on the job run, token refresh audited, needs-reconnect alert) subscribes to
`blingsync.bling.observers`. The tokens live in `blingsync.bling.token_store`.

Callers use the functions of `blingsync.bling.catalog` (plain data in, plain dataclasses of
`blingsync.bling.types` out) and catch the exceptions of `blingsync.bling.errors`.
"""
