"""Prometheus metrics for the API, in a registry owned by the app.

A per-app :class:`~prometheus_client.CollectorRegistry` (not the global one) lets several apps
live in one process — the test suite builds dozens — without "duplicated timeseries" errors.
Requests are labelled by route *template* (``/api/v1/files/{file_id}``), never the raw path,
so ids cannot blow up the number of series; unmatched paths share one label.

With ``atelier api --workers N`` each process keeps its own numbers; scrape them per process,
or move to prometheus-client's multiprocess mode when that matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class HttpMetrics:
    """The request metrics of one app, and the registry they live in."""

    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    requests: Counter = field(init=False)
    latency: Histogram = field(init=False)
    in_progress: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "atelier_http_requests",
            "HTTP requests served, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "atelier_http_request_duration_seconds",
            "Time to serve an HTTP request, by method, route template and status.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "atelier_http_requests_in_progress",
            "HTTP requests being served right now.",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this app's registry."""
    http_metrics: HttpMetrics = request.app.state.metrics
    return Response(http_metrics.render(), media_type=CONTENT_TYPE_LATEST)
