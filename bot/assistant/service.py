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


def plan_key(plan_id: str) -> str:
    return f"assistant:plan:{plan_id}"


async def respond(talk: Conversation, text: str) -> Reply:
    """Answer one message: a plan with Run / Edit / Cancel, or words."""
    user, texts = talk.user, talk.texts
    llm = llm_for(talk.settings)
    summarise = llm.summarise if llm is not None else memory.plain_summary
    if llm is None:
        found = planner.plan(text)
        steps = found.steps if found else []
        words = "" if steps else texts("assistant.offline_reply")
    else:
        past = await memory.load(talk.redis, user.tenant_id, user.id)
        messages = [{"role": "system", "content": SYSTEM_PROMPT.format(bot_name=talk.bot_name)}]
        if past.summary:
            messages.append({"role": "system", "content": f"Earlier: {past.summary}"})
        messages += [*past.messages, {"role": "user", "content": text}]
        tools = await catalog.list_tools(talk.session, user.tenant_id, language=texts.locale)
        reply = await llm.complete(messages, tools)
        steps, words = reply.steps, reply.text
    if steps:
        answer = await offer_plan(talk, steps)
        said = f"[plan] {' → '.join(step['tool'] for step in steps)}"
    else:
        answer, said = Reply(words or texts("assistant.offline_reply")), words
    await memory.remember(
        talk.redis,
        user.tenant_id,
        user.id,
        {"role": "user", "content": text},
        {"role": "assistant", "content": said or answer.text},
        summarise=summarise,
    )
    return answer


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
