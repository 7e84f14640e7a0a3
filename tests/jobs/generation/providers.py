"""Test providers registered under their own names in ``jobs.providers.PROVIDERS``.

They are real adapters (the same interface the runner uses for OpenAI and the offline
provider); a test tool row in the catalogue names them as its provider.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar, Self

from jobs.providers import (
    PROVIDERS,
    InvalidProviderInput,
    ProviderAdapter,
    ProviderRequest,
    ProviderResult,
    ToolKind,
)
from jobs.providers.offline import OfflineProvider

SLOW_SECONDS_ENV = "ATELIER_TEST_SLOW_SECONDS"


class SlowProvider(ProviderAdapter):
    """Reports progress for a while (checking for cancellation), then makes a real image."""

    name: ClassVar[str] = "slow"
    kinds: ClassVar[frozenset[ToolKind]] = frozenset({ToolKind.TEXT_TO_IMAGE})

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @classmethod
    def from_settings(cls, settings: Any = None) -> Self:
        return cls(float(os.environ.get(SLOW_SECONDS_ENV, "1.5")))

    async def _run(self, request: ProviderRequest) -> ProviderResult:
        steps = 20
        for step in range(steps):
            await request.report(5 + 90 * step // steps, "thinking slowly")
            await request.raise_if_cancelled()
            await asyncio.sleep(self.seconds / steps)
        return await OfflineProvider().run(request)


class FailingProvider(ProviderAdapter):
    """Always refuses the input: a permanent error."""

    name: ClassVar[str] = "failing"
    kinds: ClassVar[frozenset[ToolKind]] = frozenset(ToolKind)

    @classmethod
    def from_settings(cls, settings: Any = None) -> Self:
        return cls()

    async def _run(self, request: ProviderRequest) -> ProviderResult:
        await request.report(10, "trying")
        raise InvalidProviderInput("this test tool refuses every request")


TEST_PROVIDERS = {
    "slow": "tests.jobs.generation.providers:SlowProvider",
    "failing": "tests.jobs.generation.providers:FailingProvider",
}


def register() -> None:
    PROVIDERS.update(TEST_PROVIDERS)


def unregister() -> None:
    for name in TEST_PROVIDERS:
        PROVIDERS.pop(name, None)
