"""Wallet API fixtures: those of the catalogue tests."""

from tests.miniapp_api.catalog.conftest import fans, store, test_providers  # noqa: F401
