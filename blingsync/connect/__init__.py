"""The connect use case: staff connect (or reconnect) the Bling account from the admin or
the `bling_connect` command. `services` claims the code once, exchanges it through the
client, audits and stores the connection; `views` and `urls` are the pages mounted at /bling/.
"""
