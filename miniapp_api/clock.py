"""``NowDep``: the current time for endpoints whose rules depend on the day (streaks, stats).

Production reads the wall clock. Tests put a callable on ``app.state.clock`` to move days
forward without sleeping or patching our code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from core.db import utcnow


async def current_time(request: Request) -> datetime:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


NowDep = Annotated[datetime, Depends(current_time)]
