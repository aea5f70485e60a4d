"""Job kinds of the core app.

`tokens`: refresh the Bling access token ahead of expiry (implemented with the Bling
connection, see blingsync/bling/).
"""
