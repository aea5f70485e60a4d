"""Fixtures shared by the products tests."""

from __future__ import annotations

import pytest

from tests.products.soldout_support import tree_mirror


@pytest.fixture
def tree(bling_connected, fake_bling):
    """A connected fake Bling with the category tree of the sold-out tests, mirrored."""
    return tree_mirror(fake_bling)
