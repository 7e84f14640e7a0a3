"""Hosted model APIs with the asynchronous predictions pattern (Replicate's wire shape).

One call is three phases over plain HTTP: ``POST {base}/v1/predictions`` with ``{"model" |
"version", "input"}`` creates a prediction; ``GET {base}/v1/predictions/{id}`` is polled (with
growing, capped intervals, honouring ``Retry-After``) while it is ``starting``/``processing``,
its tqdm-style ``logs`` becoming progress; the output URL(s) are then streamed to disk under a
size cap and their MIME type sniffed from content, never trusted from headers.

The tool's ``model`` picks what runs: ``owner/name`` is sent as ``model``; a pinned
``owner/name:<version>`` or a bare 64-hex version id as ``version`` (Replicate takes both
forms). Every other parameter is the model's ``input`` verbatim, and media inputs travel as
data URIs under ``image``/``audio``/``video`` unless a parameter already names them.

Errors: 429, 5xx, 408/409, timeouts and connection failures are transient; 401/403 auth, 402
quota, other 4xx invalid input, a ``failed`` prediction and an unreadable answer are permanent.
Creating is never retried here (the job system owns retries, a retry makes a new prediction);
polling rides out a few transient failures, because the prediction is already paid for. A
cancelled job (flag or task cancellation) sends ``POST …/cancel`` and stops polling.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from urllib.parse import urljoin, urlsplit

import httpx

from jobs import media
from jobs.providers.base import (
    InvalidProviderInput,
    PermanentProviderError,
    ProviderAdapter,
    ProviderAuthError,
    ProviderBadResponse,
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
    ToolKind,
    TransientProviderError,
)

__all__ = ["PollPolicy", "PredictionsProvider", "map_status_error"]

_RESERVED = frozenset({"model", "version"})
_VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
_LOG_PERCENT = re.compile(r"(\d{1,3})%\|")
_RUNNING = frozenset({"starting", "processing"})
_SAFETY_WORDS = ("nsfw", "safety", "content policy", "sensitive")
_MIME_SUFFIX = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
}


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often to poll: ``initial`` seconds, times ``factor`` per poll, at most ``maximum``.

    ``transient_retries`` is how many transient poll failures in a row are ridden out.
    """

    initial: float = 0.5
    factor: float = 1.5
    maximum: float = 5.0
    transient_retries: int = 5


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return f"HTTP {response.status_code}"


def map_status_error(response: httpx.Response, provider: str = "predictions") -> ProviderError:
    """Translate a non-2xx answer into a typed provider error."""
    status, message = response.status_code, _detail(response)
    if status == 429:
        return ProviderRateLimited(
            message, provider=provider, status_code=status, retry_after=_retry_after(response)
        )
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(
            message, provider=provider, status_code=status, retry_after=_retry_after(response)
        )
    if status in (401, 403):
        return ProviderAuthError(message, provider=provider, status_code=status)
    if status == 402:
        return ProviderQuotaExceeded(message, provider=provider, status_code=status)
    if status in (400, 404, 413, 422):
        return InvalidProviderInput(message, provider=provider, status_code=status)
    return PermanentProviderError(message, provider=provider, status_code=status)


class PredictionsProvider(ProviderAdapter):
    """Adapter for any Replicate-compatible predictions API at ``base_url``."""

    name: ClassVar[str] = "predictions"
    kinds: ClassVar[frozenset[ToolKind]] = frozenset(
        {
            ToolKind.TEXT_TO_IMAGE,
            ToolKind.IMAGE_TO_VIDEO,
            ToolKind.TEXT_TO_AUDIO,
            ToolKind.TEXT_TO_SPEECH,
            ToolKind.IMAGE_UPSCALE,
            ToolKind.IMAGE_VARIATION,
            ToolKind.TEXT,
        }
    )

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        poll: PollPolicy | None = None,
        max_output_bytes: int = 200 * 1024 * 1024,
        timeout: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not base_url or not api_key:
            raise ProviderNotConfigured(
                "the predictions API needs a base URL and a key "
                "(ATELIER_PREDICTIONS_BASE_URL, ATELIER_PREDICTIONS_API_KEY)"
            )
        self.base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self.poll = poll or PollPolicy()
        self.max_output_bytes = max_output_bytes
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=True)

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        return cls(base_url=settings.predictions_base_url, api_key=settings.predictions_api_key)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    # ------------------------------------------------------------------ HTTP

    async def _api(self, method: str, path: str, body: Any = None) -> Mapping[str, Any]:
        """One API call: a typed error for transport failures, statuses and garbage."""
        try:
            response = await self.client.request(
                method, f"{self.base_url}{path}", json=body, headers=self._auth
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("the predictions API timed out", provider=self.name) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"cannot reach the predictions API: {exc}", provider=self.name
            ) from exc
        if response.status_code >= 400:
            raise map_status_error(response, self.name)
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderBadResponse(
                "the predictions API sent an unreadable answer", provider=self.name
            ) from exc
        if (
            not isinstance(data, Mapping)
            or not isinstance(data.get("id"), str)
            or not isinstance(data.get("status"), str)
        ):
            raise ProviderBadResponse(
                "the predictions API answer is not a prediction", provider=self.name
            )
        return data

    async def _cancel(self, prediction_id: str) -> None:
        """Best effort: a lost cancel only costs the provider's compute, never our outcome."""
        with contextlib.suppress(ProviderError):
            await asyncio.wait_for(
                asyncio.shield(self._api("POST", f"/v1/predictions/{prediction_id}/cancel")), 5
            )

    # ------------------------------------------------------------------ the call

    async def _body(self, request: ProviderRequest) -> dict[str, Any]:
        model = request.params.get("version") or request.params.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidProviderInput("the tool names no model for the predictions API")
        inputs: dict[str, Any] = {
            key: value for key, value in request.params.items() if key not in _RESERVED
        }
        for item in request.inputs:
            major = item.mime_type.partition("/")[0]
            if major in ("image", "audio", "video") and major not in inputs:
                encoded = base64.b64encode(await item.read_bytes()).decode("ascii")
                inputs[major] = f"data:{item.mime_type};base64,{encoded}"
        if ":" in model or _VERSION_ID.match(model):
            return {"version": model, "input": inputs}
        return {"model": model, "input": inputs}

    async def _run(self, request: ProviderRequest) -> ProviderResult:
        body = await self._body(request)
        await request.report(1, "queued")
        prediction = await self._api("POST", "/v1/predictions", body)
        prediction_id = str(prediction["id"])
        try:
            prediction = await self._wait(request, prediction)
        except (ProviderError, asyncio.CancelledError):
            await self._cancel(prediction_id)
            raise
        outputs = await self._fetch_outputs(request, prediction)
        metrics = prediction.get("metrics")
        return ProviderResult(
            provider=self.name,
            outputs=outputs,
            model=str(body.get("model") or body.get("version")),
            metadata={
                "prediction_id": prediction_id,
                "metrics": dict(metrics) if isinstance(metrics, Mapping) else {},
            },
        )

    async def _wait(
        self, request: ProviderRequest, prediction: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Poll until the prediction leaves ``starting``/``processing``; report its progress."""
        delay = self.poll.initial
        failures = 0
        path = f"/v1/predictions/{prediction['id']}"
        while prediction["status"] in _RUNNING:
            await self._report(request, prediction)
            await self._sleep_unless_cancelled(request, delay)
            delay = min(self.poll.maximum, delay * self.poll.factor)
            try:
                prediction = await self._api("GET", path)
            except TransientProviderError as exc:
                failures += 1
                if failures > self.poll.transient_retries:
                    raise
                if exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                continue
            failures = 0
        status = prediction["status"]
        if status == "succeeded":
            return prediction
        error = str(prediction.get("error") or f"the prediction ended as {status!r}")
        if status == "failed" and any(word in error.lower() for word in _SAFETY_WORDS):
            raise ProviderContentRejected(error, provider=self.name)
        if status in ("failed", "canceled"):
            raise PermanentProviderError(error, provider=self.name)
        raise ProviderBadResponse(f"unknown prediction status {status!r}", provider=self.name)

    async def _sleep_unless_cancelled(self, request: ProviderRequest, delay: float) -> None:
        """Sleep ``delay`` seconds, looking at the cancel flag every 0.2 s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        await request.raise_if_cancelled()
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(0.2, left))
            await request.raise_if_cancelled()

    async def _report(self, request: ProviderRequest, prediction: Mapping[str, Any]) -> None:
        """``starting`` is 5 %, ``processing`` maps the last tqdm percentage onto 10..90 %."""
        if prediction["status"] == "starting":
            await request.report(5, "starting")
            return
        logs = prediction.get("logs")
        found = _LOG_PERCENT.findall(logs) if isinstance(logs, str) else []
        percent = min(100, int(found[-1])) if found else 0
        await request.report(10 + percent * 80 // 100, "processing")

    # ------------------------------------------------------------------ outputs

    def _output_urls(self, request: ProviderRequest, output: Any) -> list[str] | str:
        """The output URLs, or the text of a language model (a string or a list of tokens)."""
        items = output if isinstance(output, list) else [output]
        if not items or not all(isinstance(item, str) for item in items):
            raise ProviderBadResponse("the prediction has no usable output", provider=self.name)
        if request.kind is ToolKind.TEXT:
            return "".join(items)
        urls = [urljoin(self.base_url + "/", item) for item in items]
        if not all(urlsplit(url).scheme in ("http", "https") for url in urls):
            raise ProviderBadResponse("the prediction output is not a URL", provider=self.name)
        return urls

    async def _fetch_outputs(
        self, request: ProviderRequest, prediction: Mapping[str, Any]
    ) -> tuple[ProviderOutput, ...]:
        found = self._output_urls(request, prediction.get("output"))
        if isinstance(found, str):
            return (ProviderOutput(mime_type="text/plain", data=found.encode("utf-8")),)
        outputs = []
        for index, url in enumerate(found):
            await request.report(90 + 9 * index // len(found), "downloading")
            outputs.append(await self._download(request, url, index))
        return tuple(outputs)

    async def _download(self, request: ProviderRequest, url: str, index: int) -> ProviderOutput:
        """Stream one output to disk, refusing it once it passes ``max_output_bytes``."""
        target = request.output_dir() / f"prediction-{index}"
        size = 0
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise map_status_error(response, self.name)
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit():
                    self._check_size(int(declared))
                with target.open("wb") as fh:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        self._check_size(size)
                        fh.write(chunk)
                        await request.raise_if_cancelled()
        except httpx.TimeoutException as exc:
            target.unlink(missing_ok=True)
            raise ProviderTimeout("downloading the output timed out", provider=self.name) from exc
        except httpx.TransportError as exc:
            target.unlink(missing_ok=True)
            raise ProviderUnavailable(f"cannot download the output: {exc}") from exc
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        mime = await media.sniff_file_mime(target)
        final = target.with_suffix(_MIME_SUFFIX.get(mime, ".bin"))
        target.rename(final)
        return ProviderOutput(mime_type=mime, path=final, metadata={"source_url": url})

    def _check_size(self, size: int) -> None:
        if size > self.max_output_bytes:
            raise ProviderBadResponse(
                f"the output is larger than {self.max_output_bytes} bytes", provider=self.name
            )
