"""The assistant's rules: free text in, a chat answer or a priced plan out; plans run on Run.

With an OpenAI key the LLM answers, planning with function calls over the tools this tenant
offers; without one the offline planner (:mod:`bot.assistant.planner`) turns media requests
into plans and everything else gets a short help text. A plan is priced with
:func:`jobs.generation.workflows.quote_workflow` (so a bad plan is refused before the fan sees
it), stored in Redis for :data:`PLAN_TTL_S` under a short id that rides in the buttons, and run
by :func:`run_plan` as one workflow. "Edit" drops the plan and asks the fan to say what to
change: their next message is planned again, with the conversation in memory.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.assistant import memory, planner
from bot.assistant.llm import SYSTEM_PROMPT, llm_for
from bot.generation.service import Chat, Reply, refusal, start_steps, tool_name
from bot.i18n import Texts
from core import ledger
from core.errors import AtelierError
from core.settings import Settings
from jobs.catalog import service as catalog
from jobs.generation import workflows
from tenants import plans
from tenants.users import BotUser

PLAN_TTL_S = 3600
RUN, EDIT, DROP = "as:run:", "as:edit:", "as:drop:"


@dataclass(frozen=True, slots=True)
class Conversation:
    settings: Settings
    session: AsyncSession
    redis: Redis
    user: BotUser
    texts: Texts
    bot_name: str
    quota: memory.Quota | None = None  # the plan's messages_per_day for this tenant, today


def plan_key(plan_id: str) -> str:
    return f"assistant:plan:{plan_id}"


def daily_quota(tenant_id: int, plan: str, config: dict[str, Any] | None) -> memory.Quota:
    """Today's (UTC) count of the tenant's assistant replies and the plan's limit on it."""
    limit = plans.effective_limits(plan, config).messages_per_day
    key = plans.assistant_quota_key(tenant_id, plans.utc_day())
    return memory.Quota(key, limit, plans.ASSISTANT_QUOTA_TTL_S)


async def respond(talk: Conversation, text: str) -> Reply:
    """Answer one message: a plan with Run / Edit / Cancel, or words. Each answer counts
    against the tenant's daily quota, in the Redis command the memory needs anyway; past it
    the fan is told to come back tomorrow and the creator is told once that day."""
    llm = llm_for(talk.settings)
    if llm is None:
        return await _respond_offline(talk, text)
    user, texts = talk.user, talk.texts
    if talk.quota is None:
        past = await memory.load(talk.redis, user.tenant_id, user.id)
    else:
        past, used = await memory.load_counted(talk.redis, user.tenant_id, user.id, talk.quota)
        if not talk.quota.allows(used):
            return await over_quota(talk, talk.quota, used)
    messages = [{"role": "system", "content": SYSTEM_PROMPT.format(bot_name=talk.bot_name)}]
    if past.summary:
        messages.append({"role": "system", "content": f"Earlier: {past.summary}"})
    messages += [*past.messages, {"role": "user", "content": text}]
    tools = await catalog.list_tools(talk.session, user.tenant_id, language=texts.locale)
    reply = await llm.complete(messages, tools)
    if reply.steps:
        answer = await offer_plan(talk, reply.steps)
        said = _plan_line(reply.steps)
    else:
        answer = Reply(reply.text or texts("assistant.offline_reply"))
        said = reply.text or answer.text
    await _remember(talk, text, said, llm.summarise)
    return answer


async def _respond_offline(talk: Conversation, text: str) -> Reply:
    """The offline planner: media requests become plans, the rest gets the help text. The
    answer is remembered (and counted) before the plan is priced, so a refused one costs
    nothing."""
    found = planner.plan(text)
    steps = found.steps if found else []
    said = _plan_line(steps) if steps else talk.texts("assistant.offline_reply")
    used = await _remember(talk, text, said, memory.plain_summary, quota=talk.quota)
    if talk.quota is not None and not talk.quota.allows(used):
        return await over_quota(talk, talk.quota, used)
    return await offer_plan(talk, steps) if steps else Reply(said)


def _plan_line(steps: Sequence[Mapping[str, Any]]) -> str:
    return f"[plan] {' → '.join(step['tool'] for step in steps)}"


async def _remember(
    talk: Conversation,
    text: str,
    said: str,
    summarise: memory.Summariser,
    *,
    quota: memory.Quota | None = None,
) -> int:
    user = talk.user
    return await memory.remember(
        talk.redis,
        user.tenant_id,
        user.id,
        {"role": "user", "content": text},
        {"role": "assistant", "content": said},
        summarise=summarise,
        quota=quota,
    )


async def over_quota(talk: Conversation, quota: memory.Quota, used: int) -> Reply:
    """The fan's polite refusal. The first refusal of the day tells the creator (no further
    Redis command for the others: a bot past its quota stays as cheap as before)."""
    if quota.just_ran_out(used):
        await plans.assistant_limit_reached(talk.redis, talk.user.tenant_id, quota.limit)
    return Reply(talk.texts("assistant.daily_limit"))


async def offer_plan(talk: Conversation, steps: Sequence[Mapping[str, Any]]) -> Reply:
    user, texts = talk.user, talk.texts
    try:
        quote = await workflows.quote_workflow(talk.session, user.tenant_id, steps)
    except AtelierError as exc:
        return refusal(texts, exc)
    plan_id = secrets.token_urlsafe(9)
    record = {"tenant_id": user.tenant_id, "user_id": user.id, "steps": list(steps)}
    await talk.redis.set(plan_key(plan_id), json.dumps(record), ex=PLAN_TTL_S)
    lines = []
    for index, (step, price) in enumerate(zip(steps, quote.steps, strict=True)):
        name = await tool_name(talk.session, user.tenant_id, step["tool"], texts.locale)
        lines.append(
            f"{index + 1}. {name}{describe(step.get('params') or {}, texts)} · {price.price}"
        )
    balance = await ledger.user_balance(talk.session, user.tenant_id, user.id)
    text = texts(
        "assistant.plan", steps="\n".join(lines), total=quote.price, balance=balance.available
    )
    return Reply(text, plan_keyboard(texts, plan_id))


def describe(params: Mapping[str, Any], texts: Texts) -> str:
    """A step's parameters in a few words: the prompt, a duration, where inputs come from."""
    parts = []
    for name, value in params.items():
        if isinstance(value, str) and value.startswith("$steps."):
            parts.append(texts("assistant.from_step", step=int(value.split(".")[1]) + 1))
        elif name in ("prompt", "text"):
            parts.append(f"“{str(value)[:80]}”")
        elif name == "duration":
            parts.append(texts("assistant.seconds", seconds=value))
    return f": {', '.join(parts)}" if parts else ""


def plan_keyboard(texts: Texts, plan_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("assistant.run_button"), callback_data=RUN + plan_id
                ),
                InlineKeyboardButton(
                    text=texts("assistant.edit_button"), callback_data=EDIT + plan_id
                ),
                InlineKeyboardButton(
                    text=texts("assistant.cancel_button"), callback_data=DROP + plan_id
                ),
            ]
        ]
    )


async def take_plan(redis: Redis, plan_id: str, user: BotUser) -> list[dict[str, Any]] | None:
    """The plan's steps, once (a second press finds nothing); only for the fan it was made for."""
    raw = await redis.getdel(plan_key(plan_id))
    if raw is None:
        return None
    record = json.loads(raw)
    if record["tenant_id"] != user.tenant_id or record["user_id"] != user.id:
        return None
    steps: list[dict[str, Any]] = record["steps"]
    return steps


async def run_plan(session: AsyncSession, redis: Redis, chat: Chat, plan_id: str) -> Reply | None:
    steps = await take_plan(redis, plan_id, chat.user)
    if steps is None:
        return Reply(chat.texts("assistant.plan_expired"))
    return await start_steps(session, redis, chat, steps, name="assistant")


async def reset(redis: Redis, user: BotUser) -> None:
    await memory.forget(redis, user.tenant_id, user.id)
