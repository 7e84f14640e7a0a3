"""An OpenAI-compatible HTTP server for tests: the real SDK talks to it over real HTTP.

Routes: chat completions (whole and SSE), image generations, speech, transcriptions, models.
Bodies are parsed by hand, not by FastAPI models, so every error has OpenAI's shape
(``{"error": {"message", "type", "param", "code"}}``) instead of FastAPI's 422.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from devtools.openai import synth
from devtools.openai.chat import (
    completion_body,
    default_reply,
    new_completion,
    resolve_reply,
    stream_chunks,
)
from devtools.openai.control import (
    Fault,
    OpenAIServerConfig,
    OpenAIServerControl,
    RecordedRequest,
)

__all__ = ["create_app", "error_response"]

_ERROR_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    404: "The requested resource does not exist.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
}
_IMAGE_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def _request_id() -> dict[str, str]:
    return {"x-request-id": "req_" + secrets.token_hex(16)}


def error_response(
    status: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error exactly as OpenAI sends it."""
    body = {
        "error": {
            "message": message or _ERROR_MESSAGES.get(status, "Error."),
            "type": error_type or _ERROR_TYPES.get(status, "server_error"),
            "param": param,
            "code": code,
        }
    }
    return JSONResponse(body, status_code=status, headers={**_request_id(), **(headers or {})})


def _json(body: Any) -> JSONResponse:
    return JSONResponse(body, headers=_request_id())


def _control(request: Request) -> OpenAIServerControl:
    control: OpenAIServerControl = request.app.state.control
    return control


async def _describe_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    described: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            described[key] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "size": value.size,
            }
        else:
            described[key] = value
    return described


def _fault_response(fault: Fault, path: str) -> Response | None:
    if fault.kind == "status":
        return error_response(
            fault.status,
            fault.message,
            error_type=fault.error_type,
            code=fault.code,
            headers=fault.headers,
        )
    if fault.kind == "garbage":
        if path.endswith("/audio/speech"):
            return Response(
                b"<html>not audio</html>", media_type="audio/wav", headers=_request_id()
            )
        return Response(
            b'{"id": "garbage", "choices": [{"mess',
            media_type="application/json",
            headers=_request_id(),
        )
    if fault.kind == "malformed":
        return _json({"object": "unexpected", "data": None, "choices": None, "text": None})
    return None


async def _gate(request: Request) -> Response | None:
    """Record the request, then apply authentication and any queued fault."""
    control = _control(request)
    path = request.url.path
    content_type = request.headers.get("content-type", "")
    payload: Any = None
    form: dict[str, Any] = {}
    if content_type.startswith("application/json"):
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            payload = None
    elif content_type.startswith("multipart/form-data"):
        form = await _describe_form(request)
    control.record(RecordedRequest(request.method, path, dict(request.headers), payload, form))

    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return error_response(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    if control.api_keys and key.strip() not in control.api_keys:
        shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
        return error_response(
            401,
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    fault = control.take_fault(path)
    if fault is None:
        return None
    if fault.kind == "delay":
        # Sleep in slices so a client that gave up frees the server (and its shutdown) early.
        deadline = asyncio.get_running_loop().time() + fault.delay
        while asyncio.get_running_loop().time() < deadline:
            if await request.is_disconnected():
                return Response(status_code=499)
            await asyncio.sleep(0.02)
        return None
    return _fault_response(fault, path)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise _BadRequest("We could not parse the JSON body of your request.") from exc
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return body


def _require(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is None:
        raise _BadRequest(f"Missing required parameter: '{name}'.", name)
    if not isinstance(value, kind) or (isinstance(value, str | list) and not value):
        raise _BadRequest(f"Invalid value for '{name}'.", name)
    return value


def _size(value: Any) -> tuple[int, int]:
    if value in (None, "auto"):
        return 1024, 1024
    width, sep, height = str(value).partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise _BadRequest(f"Invalid value: '{value}'. Expected a size like '1024x1024'.", "size")
    w, h = int(width), int(height)
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise _BadRequest(f"Invalid size '{value}'.", "size")
    return w, h


def create_app(
    config: OpenAIServerConfig | None = None, *, control: OpenAIServerControl | None = None
) -> FastAPI:
    """Build the server; its control object is ``app.state.control``."""
    config = config or OpenAIServerConfig()
    app = FastAPI(title="Atelier fake OpenAI", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.control = control or OpenAIServerControl(config)
    app.state.files = {}

    @app.exception_handler(_BadRequest)
    async def bad_request(_: Request, exc: _BadRequest) -> JSONResponse:
        return error_response(400, exc.message, param=exc.param)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        body = await _json_body(request)
        _require(body, "model", str)
        messages = _require(body, "messages", list)
        if not all(isinstance(m, dict) and "role" in m for m in messages):
            raise _BadRequest("Each message must be an object with a 'role'.", "messages")
        reply = _control(request).next_chat() or default_reply(body)
        completion = new_completion(resolve_reply(reply, body), body)
        if not body.get("stream"):
            return _json(completion_body(completion))
        options = body.get("stream_options") or {}
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))

        async def events() -> AsyncIterator[bytes]:
            for chunk in stream_chunks(completion, include_usage=include_usage):
                yield f"data: {json.dumps(chunk)}\n\n".encode()
                if config.stream_delay:
                    await asyncio.sleep(config.stream_delay)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={**_request_id(), "cache-control": "no-cache"},
        )

    @app.post("/v1/images/generations")
    async def images_generations(request: Request) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        body = await _json_body(request)
        prompt = _require(body, "prompt", str)
        model = str(body.get("model") or "dall-e-2")
        count = body.get("n") or 1
        if not isinstance(count, int) or not 1 <= count <= 10:
            raise _BadRequest("'n' must be between 1 and 10.", "n")
        width, height = _size(body.get("size"))
        response_format = body.get("response_format")
        if response_format == "url" and model.startswith("gpt-image"):
            raise _BadRequest("Unknown parameter: 'response_format'.", "response_format")
        fmt_name = body.get("output_format") or "png"
        if fmt_name not in _IMAGE_FORMATS:
            raise _BadRequest(f"Invalid output_format '{fmt_name}'.", "output_format")
        pil_format, mime = _IMAGE_FORMATS[fmt_name]
        data = []
        for index in range(count):
            image = await asyncio.to_thread(
                synth.png_for_prompt,
                f"{prompt}#{index}" if index else prompt,
                width,
                height,
                pil_format,
            )
            if response_format == "url":
                file_id = secrets.token_hex(8)
                app.state.files[file_id] = (image, mime)
                url = str(request.base_url).rstrip("/") + f"/v1/_files/{file_id}"
                data.append({"url": url, "revised_prompt": prompt})
            else:
                data.append(
                    {"b64_json": base64.b64encode(image).decode(), "revised_prompt": prompt}
                )
        answer: dict[str, Any] = {
            "created": int(time.time()),
            "data": data,
            "size": f"{width}x{height}",
            "output_format": fmt_name,
        }
        if model.startswith("gpt-image"):
            words = len(prompt.split())
            answer["usage"] = {
                "input_tokens": words,
                "output_tokens": 1056 * count,
                "total_tokens": words + 1056 * count,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": words},
            }
        return _json(answer)

    @app.get("/v1/_files/{file_id}")
    async def served_file(file_id: str) -> Response:
        """Where ``response_format=url`` images live (unauthenticated, like a signed CDN URL)."""
        if file_id not in app.state.files:
            return error_response(404)
        content, mime = app.state.files[file_id]
        return Response(content, media_type=mime)

    @app.post("/v1/audio/speech")
    async def audio_speech(request: Request) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        body = await _json_body(request)
        _require(body, "model", str)
        text = _require(body, "input", str)
        voice = _require(body, "voice", (str, dict))
        if len(text) > 4096:
            raise _BadRequest("'input' is longer than 4096 characters.", "input")
        speed = body.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
            raise _BadRequest("'speed' must be between 0.25 and 4.0.", "speed")
        voice_name = voice if isinstance(voice, str) else str(voice.get("id", "custom"))
        if body.get("response_format") == "pcm":
            pcm = await asyncio.to_thread(synth.speech_pcm, text, voice_name, float(speed))
            return Response(pcm, media_type="audio/pcm", headers=_request_id())
        # Every other format is answered as WAV: encoding MP3/Opus would need ffmpeg.
        wav = await asyncio.to_thread(synth.speech_wav, text, voice_name, float(speed))
        return Response(wav, media_type="audio/wav", headers=_request_id())

    @app.post("/v1/audio/transcriptions")
    async def audio_transcriptions(request: Request) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _BadRequest("Missing required parameter: 'file'.", "file")
        if not form.get("model"):
            raise _BadRequest("Missing required parameter: 'model'.", "model")
        audio = await upload.read()
        if not audio:
            raise _BadRequest("The audio file is empty.", "file")
        duration = synth.wav_duration(audio)
        text = _control(request).next_transcript() or synth.read_transcript(audio)
        if text is None:
            text = (
                f"This is a transcript of {duration:.1f} seconds of audio."
                if duration
                else "This is a transcript of the uploaded audio."
            )
        fmt = form.get("response_format") or "json"
        if fmt == "text":
            return PlainTextResponse(text + "\n", headers=_request_id())
        if fmt in ("srt", "vtt"):
            end = time.strftime("%H:%M:%S", time.gmtime(duration or 1))
            if fmt == "srt":
                return PlainTextResponse(f"1\n00:00:00,000 --> {end},000\n{text}\n\n")
            return PlainTextResponse(f"WEBVTT\n\n00:00:00.000 --> {end}.000\n{text}\n\n")
        if fmt == "verbose_json":
            seconds = round(duration or 1.0, 3)
            segment = {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": seconds,
                "text": text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.01,
            }
            return _json(
                {
                    "task": "transcribe",
                    "language": "english",
                    "duration": seconds,
                    "text": text,
                    "segments": [segment],
                }
            )
        return _json({"text": text})

    @app.get("/v1/models")
    async def list_models(request: Request) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        return _json({"object": "list", "data": [_model(m) for m in config.models]})

    @app.get("/v1/models/{model_id}")
    async def get_model(request: Request, model_id: str) -> Response:
        if (blocked := await _gate(request)) is not None:
            return blocked
        if model_id not in config.models:
            return error_response(
                404, f"The model '{model_id}' does not exist", code="model_not_found"
            )
        return _json(_model(model_id))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unknown(request: Request, path: str) -> Response:
        return error_response(404, f"Invalid URL ({request.method} /{path})")

    return app


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "atelier"}
