"""An app built from the test settings plus a router of probe endpoints, served in-process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from core.errors import ConflictError
from core.models import Tenant
from core.queue import defer_job
from core.settings import Settings
from miniapp_api.app import create_app
from miniapp_api.deps import SessionDep

probe_logger = logging.getLogger("atelier.test.probe")
router = APIRouter(prefix="/api/v1/test")


class ItemIn(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(gt=0)


@router.post("/items")
async def create_item(item: ItemIn) -> ItemIn:
    return item


@router.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@router.get("/conflict")
async def conflict() -> None:
    raise ConflictError("that name is taken", name="bob")


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("database password is hunter2")


@router.get("/log")
async def log_something() -> dict[str, bool]:
    probe_logger.info("handling the probe")
    return {"ok": True}


@router.post("/tenants")
async def add_tenant(session: SessionDep, name: str, fail: bool = False) -> dict[str, int]:
    """Write a row and defer a probe job for it; ``fail`` raises after both."""
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    defer_job(session, "probe_job", name, tenant.id)
    if fail:
        raise ConflictError("refused after deferring a job")
    return {"id": tenant.id}


@router.post("/broken-commit")
async def broken_commit(session: SessionDep) -> dict[str, bool]:
    """Returns happily, but the row cannot be written: the failure only shows at commit."""
    session.add(Tenant(name=None))
    defer_job(session, "probe_job", "broken", 0)
    return {"ok": True}


MakeClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_client(settings: Settings, engine: AsyncEngine, redis_url: str) -> MakeClient:
    """``async with make_client(redis_url=...) as client``: settings overrides, lifespan run."""

    @asynccontextmanager
    async def _client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = build_app(settings.model_copy(update=overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c

    return _client


def build_app(settings: Settings) -> FastAPI:
    """The real app plus the probe endpoints (included on the app, not on ``api_router``)."""
    app = create_app(settings)
    app.include_router(router)
    return app


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c
