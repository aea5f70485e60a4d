"""Drills are long and start real processes: they run only when asked for.

    RUN_DRILLS=1 .venv/bin/python -m pytest tests/drills -q
    .venv/bin/python -m pytest tests/drills --drills -q

Anything else (the default `make test`) skips every test marked `drill`.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--drills", action="store_true", help="run the reliability drills")
    except ValueError:  # registered already
        pass


def _wanted(config: pytest.Config) -> bool:
    if os.environ.get("RUN_DRILLS", "") not in ("", "0"):
        return True
    try:
        return bool(config.getoption("--drills"))
    except ValueError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _wanted(config):
        return
    skip = pytest.mark.skip(reason="drill: run with RUN_DRILLS=1 or --drills")
    for item in items:
        if item.get_closest_marker("drill"):
            item.add_marker(skip)
