"""The Bling v3 HTTP client: tokens, rate limits, retries, errors, and typed resource calls.

It knows HTTP and Bling, nothing about blingsync's product rules. Callers use the functions
of `blingsync.bling.catalog` (plain data in, plain dataclasses of `blingsync.bling.types`
out) and catch the exceptions of `blingsync.bling.errors`.
"""
