"""AI provider adapters behind one interface (:class:`ProviderAdapter`).

Adding a provider is one module with one subclass plus one line in :data:`PROVIDERS`; imports
are lazy so the worker never loads an SDK it does not use.
"""

from __future__ import annotations

import importlib
from typing import Any

from jobs.providers.base import (
    InvalidProviderInput,
    MediaInput,
    PermanentProviderError,
    ProviderAdapter,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderCancelled,
    ProviderContentRejected,
    ProviderError,
    ProviderNotConfigured,
    ProviderOutput,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
    ToolCall,
    ToolKind,
    TransientProviderError,
    UnsupportedToolKind,
)

__all__ = [
    "PROVIDERS",
    "InvalidProviderInput",
    "MediaInput",
    "PermanentProviderError",
    "ProviderAdapter",
    "ProviderAuthError",
    "ProviderBadResponse",
    "ProviderCancelled",
    "ProviderContentRejected",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderOutput",
    "ProviderQuotaExceeded",
    "ProviderRateLimited",
    "ProviderRequest",
    "ProviderResult",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ToolCall",
    "ToolKind",
    "TransientProviderError",
    "UnsupportedToolKind",
    "create_provider",
]

#: Provider name → ``module:Class``; the class has a ``from_settings(settings)`` constructor.
PROVIDERS: dict[str, str] = {
    "offline": "jobs.providers.offline:OfflineProvider",
    "openai": "jobs.providers.openai_provider:OpenAIProvider",
    "predictions": "jobs.providers.predictions:PredictionsProvider",
}


def create_provider(name: str, settings: Any = None) -> ProviderAdapter:
    """Build the named provider from settings (``core.settings.get_settings()`` when None)."""
    try:
        module_name, _, class_name = PROVIDERS[name].partition(":")
    except KeyError:
        raise ProviderNotConfigured(
            f"unknown provider {name!r}; known: {sorted(PROVIDERS)}"
        ) from None
    if settings is None:
        from core.settings import get_settings

        settings = get_settings()
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: ProviderAdapter = cls.from_settings(settings)
    return provider
