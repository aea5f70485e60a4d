"""Fixtures shared by the products tests."""

from __future__ import annotations

import pytest

from products.evidence import order_situations_cache_clear
from tests.products.soldout_support import tree_mirror


@pytest.fixture(autouse=True)
def _fresh_situations():
    """The order-situation names are cached per process: each test reads its fake's."""
    order_situations_cache_clear()
    yield
    order_situations_cache_clear()


@pytest.fixture
def tree(bling_connected, fake_bling):
    """A connected fake Bling with the category tree of the sold-out tests, mirrored."""
    return tree_mirror(fake_bling)
