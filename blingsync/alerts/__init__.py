"""E-mail alerts, the core's part: the models (app label `alerts`) and the triggers the core
and the apps call where a fact happens. Checking, wording and sending live above, in
`blingsync.operations.alerts`."""
