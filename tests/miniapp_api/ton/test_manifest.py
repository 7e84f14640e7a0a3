"""The TON Connect manifest wallets fetch: our origin, our name, an icon that is a real PNG."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.miniapp_api.conftest import MakeClient


async def test_manifest_and_icon(make_client: MakeClient) -> None:
    async with make_client(
        public_base_url="https://atelier.example/",
        ton_connect_app_name="Art Studio",
        ton_connect_terms_url="https://atelier.example/terms",
        ton_connect_privacy_url=None,
    ) as client:
        response = await client.get("/tonconnect-manifest.json")
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        manifest = response.json()
        assert manifest == {
            "url": "https://atelier.example",
            "name": "Art Studio",
            "iconUrl": "https://atelier.example/tonconnect-icon.png",
            "termsOfUseUrl": "https://atelier.example/terms",
        }
        icon = await client.get(httpx.URL(manifest["iconUrl"]).path)
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert icon.headers["access-control-allow-origin"] == "*"
    image = Image.open(io.BytesIO(icon.content))
    assert image.format == "PNG" and image.size == (180, 180)
