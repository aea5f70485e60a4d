"""Reliability drills for blingsync (issue 8): real processes, faults, and hostile input.

Each drill starts the whole stack on loopback -- a fresh PostgreSQL database (or a temp SQLite
file), the fake Bling server (in this process, over real HTTP), gunicorn with 2 workers and a
django-q cluster -- does something nasty to it, and checks what blingsync promises (SPEC 5.2,
5.6, 7): nothing lost, nothing done twice, no duplicate code, clear failures, no leaked token.

Run one drill:   .venv/bin/python -m bench.drills burst [--quick] [--db sqlite]
List them:       .venv/bin/python -m bench.drills --list
Every drill prints a table and a one-line verdict and appends its figures to bench/RESULTS.md
(unless --no-record). Modules: ``stack`` (database, env, processes), ``procs`` (subprocesses),
``sender`` (signed webhooks at a fixed rate), ``probes`` (what the app's database holds),
``report`` (tables, verdicts, RESULTS.md), one module per drill, ``run`` (the CLI).
"""
