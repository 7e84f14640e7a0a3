"""``/app/``: the built front end with a fallback for client routes, long caching for hashed
assets only, and a clear 503 (with the build command) when there is no build."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from miniapp_api import webapp
from miniapp_api.app import create_app

INDEX = '<!doctype html><script type="module" src="/app/assets/index-abc123.js"></script>'
BUDGET_BYTES = 150 * 1024


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / ".secret").write_text("nope")
    return tmp_path


async def _client(settings: Settings, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.webapp_dist = dist
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def client(settings: Settings, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(settings, dist):
        yield c


async def test_index_and_client_routes_get_the_page(client: httpx.AsyncClient) -> None:
    for path in ("/app/", "/app/drive/12", "/app/store/image-upscale", "/app/wallet"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


async def test_app_without_slash_keeps_the_bot(client: httpx.AsyncClient) -> None:
    response = await client.get("/app?bot=42")
    assert response.status_code == 308
    assert response.headers["location"] == "/app/?bot=42"


async def test_hashed_assets_are_cached_for_a_year(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log('app')"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]
    other = await client.get("/app/favicon.svg")  # not hashed: revalidated
    assert other.headers["cache-control"] == "no-cache"


async def test_missing_assets_and_escapes_are_404_json(client: httpx.AsyncClient) -> None:
    for path in ("/app/assets/index-old.js", "/app/.secret", "/app/%2e%2e/pyproject.toml"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_without_a_build_the_app_says_how_to_make_one(
    settings: Settings, tmp_path: Path
) -> None:
    async for client in _client(settings, tmp_path / "missing"):
        for path in ("/app/", "/app/drive/3"):
            response = await client.get(path)
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "webapp_not_built"
            assert "npm run build" in error["message"]
        health = await client.get("/healthz")  # the API itself is unaffected
        assert health.status_code == 200


def test_initial_javascript_fits_the_budget() -> None:
    """The real build: the entry script and what index.html preloads, gzipped, ≤ 150 KB."""
    index = webapp.DEFAULT_DIST / "index.html"
    if not index.is_file():
        pytest.fail(f"the Mini App is not built: {webapp.BUILD_HINT}", pytrace=False)
    html = index.read_text()
    urls = re.findall(r'<script[^>]+type="module"[^>]+src="/app/([^"]+)"', html)
    urls += re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/app/([^"]+)"', html)
    assert urls, "no entry script in index.html"
    sizes = {url: len(gzip.compress((index.parent / url).read_bytes(), 9)) for url in urls}
    total = sum(sizes.values())
    print(f"initial JavaScript: {total / 1024:.1f} KB gzip ({sizes})")
    assert total <= BUDGET_BYTES, sizes


def test_the_image_builds_the_front_end() -> None:
    dockerfile = (webapp.DEFAULT_DIST.parents[1] / "Dockerfile").read_text()
    assert "npm run build" in dockerfile
    assert "COPY --from=webapp /webapp/dist ./webapp/dist" in dockerfile
