"""TON test fixtures: the local toncenter-compatible server."""

from tests.core.ton.toncenter_server import toncenter  # noqa: F401
