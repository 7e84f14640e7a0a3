"""A Replicate-compatible HTTP server: the predictions adapter talks to it over real HTTP.

Routes: ``POST /v1/predictions`` (``{"version"|"model", "input"}``), ``GET
/v1/predictions/{id}``, ``POST /v1/predictions/{id}/cancel`` and the output files under
``/files/{id}/{name}`` (public, like a CDN: no key needed). Errors have Replicate's problem
shape ``{"title", "detail", "status"}``. What a model outputs follows its name: "audio",
"music", "speech", "tts" or "voice" give a WAV, "llm" or "text" give a list of text tokens,
anything else gives PNGs (``num_outputs`` of them, ``width`` × ``height``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from devtools.openai import synth
from devtools.predictions.control import (
    Prediction,
    PredictionsServerConfig,
    PredictionsServerControl,
    RecordedRequest,
)

__all__ = ["create_app"]

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    404: "Not found",
    422: "Input validation failed",
    429: "Request was throttled",
    500: "Internal server error",
    503: "Service unavailable",
}
_AUDIO_WORDS = ("audio", "music", "speech", "tts", "voice")
_TEXT_WORDS = ("llm", "text")
_FILE_CHUNK = 16 * 1024


def _problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"title": _TITLES.get(status, "Error"), "detail": detail, "status": status}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _iso(monotonic_at: float, control: PredictionsServerControl) -> str:
    wall = datetime.now(UTC) - timedelta(seconds=control.now() - monotonic_at)
    return wall.isoformat().replace("+00:00", "Z")


def _int_input(prediction: Prediction, name: str, default: int, low: int, high: int) -> int:
    value = prediction.input.get(name, default)
    return max(low, min(high, value)) if isinstance(value, int) else default


def _make_outputs(prediction: Prediction, control: PredictionsServerControl) -> None:
    name = (prediction.model or prediction.version or "").lower()
    prompt = str(prediction.input.get("prompt") or prediction.input.get("text") or "prediction")
    if any(word in name for word in _AUDIO_WORDS):
        data = synth.speech_wav(prompt, str(prediction.input.get("voice", "alloy")))
        control.files[(prediction.id, "output.wav")] = (data, "audio/wav")
        prediction.outputs.append("output.wav")
        return
    width = _int_input(prediction, "width", 64, 16, 2048)
    height = _int_input(prediction, "height", 64, 16, 2048)
    for index in range(_int_input(prediction, "num_outputs", 1, 1, 4)):
        file_name = f"out-{index}.png"
        data = synth.png_for_prompt(f"{prompt} #{index}", width, height)
        control.files[(prediction.id, file_name)] = (data, "image/png")
        prediction.outputs.append(file_name)


def _view(prediction: Prediction, control: PredictionsServerControl, base: str) -> dict[str, Any]:
    """The prediction as Replicate shows it at this moment."""
    config = control.config
    now = control.now()
    elapsed = (prediction.canceled_at or now) - prediction.created
    api = f"{base}/v1/predictions/{prediction.id}"
    view: dict[str, Any] = {
        "id": prediction.id,
        "model": prediction.model,
        "version": prediction.version,
        "input": prediction.input,
        "logs": "",
        "output": None,
        "error": None,
        "status": "starting",
        "created_at": _iso(prediction.created, control),
        "started_at": None,
        "completed_at": None,
        "urls": {"get": api, "cancel": f"{api}/cancel"},
        "metrics": {},
    }
    if elapsed < config.starting_time and prediction.canceled_at is None:
        return view
    view["started_at"] = _iso(prediction.created + config.starting_time, control)
    span = max(control.duration - config.starting_time, 1e-6)
    fraction = min(1.0, max(0.0, (elapsed - config.starting_time) / span))
    steps = int(fraction * 10)
    view["logs"] = "".join(
        f"{step * 10:3d}%|{'█' * step}{' ' * (10 - step)}| {step * 5}/50 [00:00<00:00]\n"
        for step in range(1, steps + 1)
    )
    if prediction.canceled_at is not None:
        view["status"] = "canceled"
        view["completed_at"] = _iso(prediction.canceled_at, control)
        return view
    if elapsed < control.duration:
        view["status"] = "processing"
        return view
    view["completed_at"] = _iso(prediction.created + control.duration, control)
    view["metrics"] = {"predict_time": round(span, 3)}
    if prediction.fail_with is not None:
        view["status"] = "failed"
        view["error"] = prediction.fail_with
        return view
    view["status"] = "succeeded"
    name = (prediction.model or prediction.version or "").lower()
    if any(word in name for word in _TEXT_WORDS):
        prompt = str(prediction.input.get("prompt", ""))
        view["output"] = ["You ", "said: ", prompt]
        return view
    if not prediction.outputs:
        _make_outputs(prediction, control)
    urls = [f"{base}/files/{prediction.id}/{file_name}" for file_name in prediction.outputs]
    view["output"] = urls if "num_outputs" in prediction.input else urls[0]
    return view


def create_app(config: PredictionsServerConfig | None = None) -> FastAPI:
    """Build the stand-in; its :class:`PredictionsServerControl` is ``app.state.control``."""
    control = PredictionsServerControl(config or PredictionsServerConfig())
    app = FastAPI(title="Atelier predictions stand-in", docs_url=None, redoc_url=None)
    app.state.control = control

    def base_of(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Response:
        """Record, inject faults, check the key (files are public), then route."""
        body = await request.body()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        path = request.url.path
        control.record(RecordedRequest(request.method, path, dict(request.headers), parsed))
        fault = control.take_fault(request.method, path)
        if fault is not None:
            if fault.kind == "garbage":
                return Response(b"<html>upstream hiccup", media_type="text/html")
            return _problem(fault.status, "injected fault", fault.headers)
        if path.startswith("/v1/"):
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if (
                scheme.lower() != "bearer"
                or not key
                or (control.api_keys and key not in control.api_keys)
            ):
                return _problem(401, "You did not pass a valid authentication token")
        response: Response = await call_next(request)
        return response

    @app.post("/v1/predictions")
    async def create(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "The request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return _problem(422, "input: an object is required")
        model, version = body.get("model"), body.get("version")
        if not isinstance(model, str) and not isinstance(version, str):
            return _problem(422, "version or model: a string is required")
        prediction = Prediction(
            id=secrets.token_hex(13),
            model=model if isinstance(model, str) else None,
            version=version if isinstance(version, str) else None,
            input=body["input"],
            created=control.now(),
            fail_with=control.take_failure(),
        )
        control.predictions[prediction.id] = prediction
        return JSONResponse(_view(prediction, control, base_of(request)), status_code=201)

    @app.get("/v1/predictions/{prediction_id}")
    async def get(prediction_id: str, request: Request) -> Response:
        prediction = control.predictions.get(prediction_id)
        if prediction is None:
            return _problem(404, "The requested resource could not be found")
        return JSONResponse(_view(prediction, control, base_of(request)))

    @app.post("/v1/predictions/{prediction_id}/cancel")
    async def cancel(prediction_id: str, request: Request) -> Response:
        prediction = control.predictions.get(prediction_id)
        if prediction is None:
            return _problem(404, "The requested resource could not be found")
        view = _view(prediction, control, base_of(request))
        if view["status"] in ("starting", "processing"):
            prediction.canceled_at = control.now()
            view = _view(prediction, control, base_of(request))
        return JSONResponse(view)

    @app.get("/files/{prediction_id}/{file_name}")
    async def file(prediction_id: str, file_name: str) -> Response:
        found = control.files.get((prediction_id, file_name))
        if found is None:
            return _problem(404, "The requested resource could not be found")
        data, mime = found
        if not control.chunked_outputs:
            return Response(data, media_type=mime)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), _FILE_CHUNK):
                yield data[start : start + _FILE_CHUNK]

        return StreamingResponse(chunks(), media_type=mime)

    return app
