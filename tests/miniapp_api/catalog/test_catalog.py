"""The tool store API: browsing in the fan's language at the tenant's price, favourites,
quotes, and runs with every refusal in the JSON error shape."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import User
from jobs.catalog.service import set_tenant_tool
from tests.miniapp_api.auth.helpers import add_bot, sign_in
from tests.miniapp_api.catalog.conftest import Fans, fund
from tests.miniapp_api.drive.conftest import png

Factory = async_sessionmaker[AsyncSession]
TOOLS = "/api/v1/catalog/tools"


async def set_language(factory: Factory, user_id: int, language: str) -> None:
    async with session_scope(factory) as session:
        await session.execute(update(User).where(User.id == user_id).values(language=language))


async def test_tools_in_the_fans_language_at_the_tenants_price(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    async with session_scope(session_factory) as session:
        await set_tenant_tool(session, fans.alice.bot.tenant_id, "image-generate", price=9)
    await set_language(session_factory, fans.alice.user_id, "tr")

    tools = (await client.get(TOOLS, headers=fans.alice.headers)).json()
    image = next(t for t in tools if t["slug"] == "image-generate")
    assert (image["name"], image["price"], image["favourite"]) == ("Metinden görsel", 9, False)
    assert "base_cost" not in image and "params_schema" not in image
    # The other tenant keeps the catalogue price, in English.
    other = (await client.get(TOOLS, headers=fans.carol.headers)).json()
    image = next(t for t in other if t["slug"] == "image-generate")
    assert (image["name"], image["price"]) == ("Image from text", 4)


async def test_search_and_category_filters(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    images = (await client.get(TOOLS, params={"category": "image"}, headers=h)).json()
    assert images and {t["category"] for t in images} == {"image"}
    found = (await client.get(TOOLS, params={"q": "FROM text"}, headers=h)).json()
    assert "image-generate" in [t["slug"] for t in found]
    for tool in found:  # every word, in the name, description, slug or category
        text = f"{tool['slug']} {tool['name']} {tool['description']} {tool['category']}".lower()
        assert "from" in text and "text" in text
    assert (await client.get(TOOLS, params={"q": "zzzqqq"}, headers=h)).json() == []
    bad = await client.get(TOOLS, params={"category": "poetry"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == (
        "query.category"
    )


async def test_categories_count_only_offered_tools(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    before = {
        c["category"]: c["tools"]
        for c in (await client.get("/api/v1/catalog/categories", headers=fans.alice.headers)).json()
    }
    async with session_scope(session_factory) as session:
        await set_tenant_tool(session, fans.alice.bot.tenant_id, "test-failing", hidden=True)
    after = {
        c["category"]: c["tools"]
        for c in (await client.get("/api/v1/catalog/categories", headers=fans.alice.headers)).json()
    }
    assert after["audio"] == before["audio"] - 1 and after["image"] == before["image"]


async def test_tool_detail_has_schema_examples_and_media_types(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    response = await client.get(f"{TOOLS}/image-generate", headers=fans.alice.headers)
    assert response.status_code == 200
    tool = response.json()
    assert tool["params_schema"]["required"] == ["prompt"]
    assert tool["examples"] and tool["output_types"] == ["image"] and tool["input_types"] == []
    missing = await client.get(f"{TOOLS}/no-such-tool", headers=fans.alice.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await client.get(f"{TOOLS}/Bad_Slug!", headers=fans.alice.headers)).status_code == 422


async def test_hidden_tools_are_404_everywhere(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    async with session_scope(session_factory) as session:
        await set_tenant_tool(session, fans.alice.bot.tenant_id, "image-generate", hidden=True)
    h = fans.alice.headers
    assert "image-generate" not in [t["slug"] for t in (await client.get(TOOLS, headers=h)).json()]
    for method, path, body in [
        ("GET", f"{TOOLS}/image-generate", None),
        ("PUT", f"{TOOLS}/image-generate/favourite", None),
        ("POST", f"{TOOLS}/image-generate/quote", {"params": {"prompt": "x"}}),
        ("POST", f"{TOOLS}/image-generate/run", {"params": {"prompt": "x"}}),
    ]:
        response = await client.request(method, path, json=body, headers=h)
        assert response.status_code == 404, (path, response.text)
    # ...but not in the other tenant.
    assert (await client.get(f"{TOOLS}/image-generate", headers=fans.carol.headers)).is_success


async def test_favourites_are_per_fan_and_idempotent(client: httpx.AsyncClient, fans: Fans) -> None:
    path = f"{TOOLS}/image-generate/favourite"
    for _ in range(2):
        assert (await client.put(path, headers=fans.alice.headers)).status_code == 204
    mine = await client.get(TOOLS, params={"favourites": "true"}, headers=fans.alice.headers)
    assert [(t["slug"], t["favourite"]) for t in mine.json()] == [("image-generate", True)]
    detail = await client.get(f"{TOOLS}/image-generate", headers=fans.alice.headers)
    assert detail.json()["favourite"] is True
    theirs = await client.get(TOOLS, params={"favourites": "true"}, headers=fans.bob.headers)
    assert theirs.json() == []
    for _ in range(2):
        assert (await client.delete(path, headers=fans.alice.headers)).status_code == 204
    after = await client.get(TOOLS, params={"favourites": "true"}, headers=fans.alice.headers)
    assert after.json() == []


async def test_quote_prices_params_and_names_bad_fields(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    path = f"{TOOLS}/image-generate/quote"
    quote = await client.post(
        path, json={"params": {"prompt": "a fox", "n": 3}}, headers=fans.alice.headers
    )
    assert quote.json() == {"tool": "image-generate", "units": 3, "unit_price": 4, "price": 12}
    bad = await client.post(
        path, json={"params": {"n": 9, "colour": "red"}}, headers=fans.alice.headers
    )
    assert bad.status_code == 422
    fields = bad.json()["error"]["details"]["fields"]
    assert {"prompt", "n", "colour"} <= set(fields)
    wrong_shape = await client.post(path, json={"params": [1]}, headers=fans.alice.headers)
    assert wrong_shape.status_code == 422


async def test_run_creates_a_job_and_holds_its_price(client: httpx.AsyncClient, fans: Fans) -> None:
    body = {"params": {"prompt": "a fox", "n": 2}, "idempotency_key": "tap-1"}
    first = await client.post(f"{TOOLS}/image-generate/run", json=body, headers=fans.alice.headers)
    assert first.status_code == 201, first.text
    job = first.json()
    assert (job["tool"], job["status"], job["price"], job["outputs"]) == (
        "image-generate",
        "queued",
        8,
        [],
    )
    again = await client.post(f"{TOOLS}/image-generate/run", json=body, headers=fans.alice.headers)
    assert again.status_code == 201 and again.json()["id"] == job["id"]
    wallet = (await client.get("/api/v1/wallet", headers=fans.alice.headers)).json()
    assert wallet == {"balance": 1000, "reserved": 8, "available": 992}


async def test_run_refusals_map_to_statuses(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    run = f"{TOOLS}/image-generate/run"
    h = fans.alice.headers
    invalid = await client.post(run, json={"params": {"n": 0}}, headers=h)
    assert invalid.status_code == 422
    assert set(invalid.json()["error"]["details"]["fields"]) == {"prompt", "n"}
    assert (await client.post(run, json={"params": "x"}, headers=h)).status_code == 422
    assert (await client.post(f"{TOOLS}/nope/run", json={}, headers=h)).status_code == 404

    # Two at once is the basic plan's limit.
    for prompt in ("x", "y"):
        assert (await client.post(run, json={"params": {"prompt": prompt}}, headers=h)).is_success
    limited = await client.post(run, json={"params": {"prompt": "z"}}, headers=h)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "plan_limit"
    async with session_scope(session_factory) as session:
        await set_tenant_tool(session, fans.bob.bot.tenant_id, "image-generate", price=2000)
    broke = await client.post(run, json={"params": {"prompt": "x"}}, headers=fans.bob.headers)
    assert broke.status_code == 402
    error = broke.json()["error"]
    assert error["code"] == "insufficient_funds"
    assert (error["details"]["price"], error["details"]["balance"]) == (2000, 1000)

    wallet = (await client.get("/api/v1/wallet", headers=fans.bob.headers)).json()
    assert wallet["reserved"] == 0  # the refused runs held nothing


async def test_run_when_the_tenant_cannot_pay_is_503(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    unfunded = await add_bot(session_factory)  # no platform credits for the base cost
    fan = await sign_in(client, unfunded)
    await fund(session_factory, fan, 100)
    response = await client.post(
        f"{TOOLS}/image-generate/run", json={"params": {"prompt": "x"}}, headers=fan.headers
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "tenant_unavailable"


async def test_input_files_must_be_the_fans_own(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    tools = (await client.get(TOOLS, headers=fans.alice.headers)).json()
    slug = next(t["slug"] for t in tools if t["input_types"] == ["image"])
    schema = (await client.get(f"{TOOLS}/{slug}", headers=fans.alice.headers)).json()
    name = next(
        k for k, v in schema["params_schema"]["properties"].items() if v.get("x-media") == "image"
    )
    example = schema["examples"][0] if schema["examples"] else {}

    async def upload(fan_headers: dict[str, str]) -> int:
        response = await client.post(
            "/api/v1/drive/files", params={"name": "in.png"}, content=png(), headers=fan_headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    bobs = await upload(fans.bob.headers)
    run = f"{TOOLS}/{slug}/run"
    stolen = await client.post(
        run, json={"params": example, "inputs": {name: bobs}}, headers=fans.alice.headers
    )
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "not_found"
    in_params = await client.post(
        run, json={"params": {**example, name: bobs}}, headers=fans.alice.headers
    )
    assert in_params.status_code == 404
    mine = await upload(fans.alice.headers)
    ok = await client.post(
        run, json={"params": example, "inputs": {name: mine}}, headers=fans.alice.headers
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["inputs"] == {name: mine}
