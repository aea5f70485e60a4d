"""Pytest helpers for code that talks to the fake (import them into a test module).

    from tests.fakebling.testing import api_fixture, fake_fixture
    fake = fake_fixture()      # one server per test module, reset before every test
    api = api_fixture()        # an authenticated requests-based client for that fake

``fake_fixture(rate_per_second=None)`` disables the 3 req/s limiter by default so unrelated
tests are not slowed down; tests of the limiter set ``fake.rate_per_second = 3``.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import Any

import pytest

from .fake import FakeBling


class Api:
    """Minimal authenticated client: ``api.get("/produtos", params=...)`` returns a Response."""

    def __init__(self, fake: FakeBling, token: str | None = None, jwt_header: bool = True) -> None:
        import requests

        self.fake = fake
        self.session = requests.Session()
        self.token = token or fake.issue_tokens()["access_token"]
        self.jwt_header = jwt_header

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        if self.jwt_header:
            headers.setdefault("enable-jwt", "1")
        return self.session.request(
            method, self.fake.base_url + path, headers=headers, timeout=10, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


def fake_fixture(**kwargs: Any) -> Callable[..., Any]:
    """A function-scoped ``fake`` fixture; one server per call of this factory, reset per test."""
    kwargs.setdefault("rate_per_second", None)
    holder: dict[str, FakeBling] = {}

    @pytest.fixture
    def fake() -> FakeBling:
        if "server" not in holder:
            # Started lazily and kept for the session: starting a server per test costs more.
            holder["server"] = FakeBling(**kwargs).start()
            atexit.register(holder["server"].stop)
        server = holder["server"]
        server.reset()
        return server

    return fake


def api_fixture() -> Callable[..., Any]:
    @pytest.fixture
    def api(fake: FakeBling) -> Api:
        return Api(fake)

    return api
