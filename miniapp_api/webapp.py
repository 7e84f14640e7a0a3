"""The Mini App front end: ``webapp/dist`` served at ``/app/``.

Vite names every asset after a hash of its content (``assets/drive-Bx3k9.js``), so those may
be cached for a year and never revalidated; ``index.html`` names the current ones, so it is
always revalidated (``no-cache``). Client-side routes (``/app/drive/12``, ``/app/wallet``) are
not files: any path without a file extension falls back to ``index.html`` and the page's
router takes it from there, while a missing asset (``/app/assets/old.js``) is a real 404 so a
stale page fails loudly instead of parsing HTML as JavaScript.

The directory is looked up per request (``app.state.webapp_dist`` overrides the default), so
building the front end while the API runs needs no restart. Without a build ``/app/`` answers
503 with the command that makes one.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from core.errors import AtelierError, NotFoundError

router = APIRouter(include_in_schema=False)

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "webapp" / "dist"
ASSETS_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
BUILD_HINT = "cd webapp && npm ci && npm run build (scripts/dev and scripts/test do it for you)"


class WebappNotBuiltError(AtelierError):
    status_code = 503
    code = "webapp_not_built"


def dist_dir(request: Request) -> Path:
    configured: Path | None = getattr(request.app.state, "webapp_dist", None)
    return configured or DEFAULT_DIST


def _index(dist: Path) -> Path:
    index = dist / "index.html"
    if not index.is_file():
        raise WebappNotBuiltError(
            f"The Mini App is not built ({index} is missing). Build it: {BUILD_HINT}.",
            hint=BUILD_HINT,
        )
    return index


def _safe_file(dist: Path, path: str) -> Path | None:
    """The file under ``dist`` that ``path`` names, or None: no ``..``, no hidden files."""
    parts = PurePosixPath(path).parts
    if any(part in ("..", "") or part.startswith(".") for part in parts):
        return None
    candidate = dist.joinpath(*parts)
    return candidate if candidate.is_file() else None


def _page(index: Path) -> FileResponse:
    return FileResponse(
        index,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/app")
async def app_root(request: Request) -> Response:
    """``/app`` → ``/app/``: relative asset URLs resolve against the directory."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/app/{query}", status_code=308)


@router.get("/app/{path:path}")
async def app_file(path: str, request: Request) -> Response:
    dist = dist_dir(request)
    index = _index(dist)
    found = _safe_file(dist, path) if path else None
    if found is not None and found != index:
        hashed = PurePosixPath(path).parts[0] == ASSETS_DIR
        return FileResponse(
            found,
            headers={
                "Cache-Control": IMMUTABLE if hashed else REVALIDATE,
                "X-Content-Type-Options": "nosniff",
            },
        )
    if "." in PurePosixPath(path).name:
        raise NotFoundError(f"no such file in the Mini App: {path}")
    return _page(index)
