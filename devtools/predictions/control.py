"""The test-facing handle of the predictions stand-in: timing, faults, failures, requests seen.

Predictions are not driven by background tasks: their status is computed from the time since
creation whenever they are read, so a test controls progress with ``duration`` alone and a
stopped server leaves nothing running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_API_KEY",
    "Fault",
    "Prediction",
    "PredictionsServerConfig",
    "PredictionsServerControl",
    "RecordedRequest",
]

DEFAULT_API_KEY = "r8_atelier-test-key"  # the stand-in's well-known test key


@dataclass(frozen=True, slots=True)
class PredictionsServerConfig:
    """How the server starts. ``api_keys`` empty means any non-empty bearer key is accepted.

    A prediction spends ``starting_time`` seconds in ``starting``, then ``processing`` until
    ``duration`` seconds after creation, then it has succeeded. ``chunked_outputs`` serves output
    files without ``Content-Length`` (as a streaming CDN might), so clients must cap while reading.
    """

    api_keys: frozenset[str] = frozenset({DEFAULT_API_KEY})
    starting_time: float = 0.05
    duration: float = 0.3
    chunked_outputs: bool = False


FaultKind = Literal["status", "garbage"]


@dataclass(slots=True)
class Fault:
    """A misbehaviour applied to the next ``remaining`` matching requests.

    ``method``/``path`` narrow which requests it hits (``path`` is a substring, e.g.
    ``"/cancel"``); ``status`` with ``headers`` (say ``{"Retry-After": "1"}``) for ``"status"``;
    ``"garbage"`` answers 200 with a body that is not JSON.
    """

    kind: FaultKind
    remaining: int = 1
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """What a client sent (headers included), for assertions."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any = None


@dataclass(slots=True)
class Prediction:
    """One prediction's fixed facts; its visible status derives from the clock."""

    id: str
    model: str | None
    version: str | None
    input: Mapping[str, Any]
    created: float
    fail_with: str | None = None
    canceled_at: float | None = None
    outputs: list[str] = field(default_factory=list)
    """File names under ``/files/{id}/``, filled when the prediction first succeeds."""


class PredictionsServerControl:
    """Fault switches and state of one server instance; thread-safe.

    ``duration`` and ``chunked_outputs`` start from the config and may be changed by a test.
    """

    def __init__(self, config: PredictionsServerConfig) -> None:
        self.config = config
        self.api_keys: set[str] = set(config.api_keys)
        self.duration = config.duration
        self.chunked_outputs = config.chunked_outputs
        self.requests: list[RecordedRequest] = []
        self.predictions: dict[str, Prediction] = {}
        self.files: dict[tuple[str, str], tuple[bytes, str]] = {}
        self._faults: list[Fault] = []
        self._failures: list[str] = []
        self._lock = threading.Lock()

    @property
    def api_key(self) -> str:
        """A key the server accepts (the first configured one)."""
        return sorted(self.api_keys)[0] if self.api_keys else DEFAULT_API_KEY

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_next(self, error: str = "CUDA out of memory", count: int = 1) -> None:
        """The next ``count`` predictions end in ``failed`` with this error."""
        with self._lock:
            self._failures.extend([error] * count)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._failures.clear()
            self.requests.clear()
            self.predictions.clear()
            self.files.clear()
            self.duration = self.config.duration
            self.chunked_outputs = self.config.chunked_outputs

    # ------------------------------------------------------------------ used by the app

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def take_failure(self) -> str | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        """Requests so far with this method whose path contains ``path_part``."""
        with self._lock:
            return [r for r in self.requests if r.method == method and path_part in r.path]

    @staticmethod
    def now() -> float:
        return time.monotonic()
