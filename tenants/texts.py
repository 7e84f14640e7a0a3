"""Tenant texts: every fan-facing text, its default, and creators' sandboxed overrides.

Each text has a stable key (``start.welcome``) and an English default that is also its gettext
``msgid``; the bot translates the default through ``bot/locales`` and renders the result as a
jinja2 template with the variables listed below. A creator may override any text per language
with their own template (saved through :func:`save_override`, used later by the creator panel).

Templates render in :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`. A template is
checked when it is saved — parsed, its syntax tree walked for private attributes (``_x``) and
for tags that have no business in a chat message (loops, macros, includes...), then rendered
once with sample values so sandbox violations surface as a :class:`TemplateRejectedError`
naming the line and the reason. A template that still fails when a fan is served (a value
nobody foresaw) falls back to the default and is logged: a fan never sees an error.

Variables (each text documents which ones it receives; unknown names render empty):

``user_name``       the fan's first name          ``bot_name``      the bot's display name
``user_username``   the fan's @username or empty   ``bot_username``  the bot's @username
``balance``         the fan's credits             ``reward``        referral reward in credits
``referral_link``   the fan's invite link          ``app_url``       the Mini App URL
``friend_name``     the fan who joined (referrals) ``command``       the unknown command typed
``plan``, ``panel_url``, ``status``                onboarding (manager bot) texts only
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.errors import NotFoundError, ValidationError
from core.models import TenantText

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "tr", "ru", "ar")
MAX_TEMPLATE_CHARS = 4000
MAX_RENDERED_CHARS = 4096  # Telegram's message limit


def N_(message: str) -> str:
    """Mark a default for the catalogue extractor; translation happens in the bot."""
    return message


@dataclass(frozen=True, slots=True)
class TextSpec:
    key: str
    default: str  # English, also the gettext msgid
    variables: tuple[str, ...] = ()


_COMMON = ("user_name", "user_username", "bot_name", "bot_username")


def _spec(key: str, default: str, *extra: str) -> TextSpec:
    return TextSpec(key, default, _COMMON + extra)


TEXTS: dict[str, TextSpec] = {
    spec.key: spec
    for spec in (
        # -- fans, in every tenant bot
        _spec(
            "start.welcome",
            N_(
                "Hi {{ user_name }}! Welcome to {{ bot_name }}.\n\n"
                "Create images, video and audio with AI, keep everything in your own drive and "
                "enjoy exclusive content. Pick something from the menu below to get started."
            ),
            "app_url",
        ),
        _spec(
            "help",
            N_(
                "Here is what I can do:\n"
                "\n"
                "/start – main menu\n"
                "/image – draw a picture from your words\n"
                "/video – make a short video\n"
                "/audio – make a sound effect\n"
                "/tts – read a text aloud\n"
                "/jobs – your recent generations\n"
                "/buy – buy credits with Telegram Stars\n"
                "/balance – your credits\n"
                "/app – open the app\n"
                "/invite – invite friends and earn credits\n"
                "/language – change the language\n"
                "/reset – forget our conversation\n"
                "/cancel – stop the current action\n"
                "/help – this message\n"
                "\n"
                "Or just tell me what you want, in your own words."
            ),
        ),
        _spec("menu.open_app", N_("Open app")),
        _spec("menu.balance", N_("Balance")),
        _spec("menu.invite", N_("Invite friends")),
        _spec("menu.language", N_("Language")),
        _spec("menu.help", N_("Help")),
        _spec("language.prompt", N_("Choose your language:")),
        _spec("language.changed", N_("Done! From now on I will speak English with you.")),
        _spec("balance.show", N_("Your balance: {{ balance }} credits."), "balance"),
        _spec(
            "app.prompt",
            N_("Tap the button below to open {{ bot_name }}."),
            "app_url",
        ),
        _spec("cancel.done", N_("Cancelled. What would you like to do next?")),
        _spec("cancel.nothing", N_("There is nothing to cancel.")),
        _spec(
            "fallback.command",
            N_("I don't know the command {{ command }}. Send /help to see what I can do."),
            "command",
        ),
        _spec(
            "fallback.text",
            N_(
                "I can't answer free text yet. Send /help to see what I can do, "
                "or open the app with /app."
            ),
        ),
        _spec(
            "throttle.notice",
            N_("You are sending messages too fast. Please wait a few seconds and try again."),
        ),
        _spec(
            "referral.invite",
            N_(
                "Invite your friends with this link and get {{ reward }} credits for every "
                "friend who joins:\n{{ referral_link }}"
            ),
            "reward",
            "referral_link",
        ),
        _spec(
            "referral.rewarded",
            N_("{{ friend_name }} joined through your link. You received {{ reward }} credits!"),
            "friend_name",
            "reward",
        ),
        # -- errors, keyed by AtelierError.code
        _spec(
            "error.generic",
            N_("Sorry, something went wrong on our side. Please try again in a moment."),
        ),
        _spec("error.bad_request", N_("That didn't work. Please check and try again.")),
        _spec("error.invalid", N_("That doesn't look right. Please check it and try again.")),
        _spec("error.not_found", N_("I couldn't find that. It may have been removed.")),
        _spec("error.conflict", N_("That has already been done.")),
        _spec("error.forbidden", N_("Sorry, you are not allowed to do that.")),
        _spec("error.unauthorized", N_("Please start the bot again with /start.")),
        _spec("error.insufficient_funds", N_("You don't have enough credits for that.")),
        _spec(
            "error.upstream_error",
            N_("A service we rely on is not responding. Please try again later."),
        ),
        # -- creators, in the platform's manager bot
        _spec(
            "manager.welcome",
            N_(
                "Hi {{ user_name }}! I connect your own Telegram bot to Atelier, so your fans "
                "can chat with it, use AI tools and buy your content.\n\n"
                "/newbot – connect a bot you made with @BotFather\n"
                "/mybots – manage the bots you connected"
            ),
        ),
        _spec("manager.connect_button", N_("Connect a bot")),
        _spec(
            "manager.ask_token",
            N_(
                "Send me your bot's token from @BotFather. It looks like "
                "123456789:AAHk3x…\n\nI delete your message as soon as I have read it. "
                "Send /cancel to stop."
            ),
        ),
        _spec(
            "manager.connected",
            N_(
                "@{{ bot_username }} is connected!\n\nPlan: {{ plan }}\n"
                "Creator panel: {{ panel_url }}\n\nYour fans can start chatting with it now."
            ),
            "plan",
            "panel_url",
        ),
        _spec("manager.open_panel", N_("Open creator panel")),
        _spec(
            "manager.token_malformed",
            N_(
                "That doesn't look like a bot token. Copy the whole token @BotFather sent you "
                "(it looks like 123456789:AAHk3x…) and send it again, or send /cancel."
            ),
        ),
        _spec(
            "manager.token_rejected",
            N_(
                "Telegram rejected this token: it may have been revoked or mistyped. Get the "
                "current token from @BotFather and send it again, or send /cancel."
            ),
        ),
        _spec(
            "manager.token_taken",
            N_(
                "This bot is already connected to Atelier. Send the token of another bot, "
                "or send /cancel."
            ),
        ),
        _spec(
            "manager.token_is_manager",
            N_(
                "That is my own token! Create a new bot with @BotFather and send me its token "
                "instead, or send /cancel."
            ),
        ),
        _spec(
            "manager.telegram_down",
            N_("I couldn't reach Telegram to check the token. Please try again in a minute."),
        ),
        _spec(
            "manager.no_bots",
            N_("You haven't connected any bots yet. Send /newbot to connect one."),
        ),
        _spec("manager.bots_header", N_("Your bots:")),
        _spec(
            "manager.bot_line",
            N_("@{{ bot_username }} – {{ status }}, plan {{ plan }}"),
            "status",
            "plan",
        ),
        _spec("manager.status_active", N_("active")),
        _spec("manager.status_disabled", N_("disabled")),
        _spec("manager.disable_button", N_("Disable @{{ bot_username }}")),
        _spec("manager.enable_button", N_("Enable @{{ bot_username }}")),
        _spec(
            "manager.disabled",
            N_("@{{ bot_username }} is disabled. Fans get no answers until you enable it again."),
        ),
        _spec("manager.enabled", N_("@{{ bot_username }} is active again.")),
        _spec("manager.not_owner", N_("Only the owner of this bot can do that.")),
        # -- payments in Stars (issue 5): fan packs, refunds, plans and top-ups, billing
        _spec("payments.choose_pack", N_("Choose a credit pack. You pay with Telegram Stars.")),
        _spec(
            "payments.pack_button",
            N_("{{ credits }} credits – {{ stars }} ⭐"),
            "credits",
            "stars",
        ),
        _spec(
            "payments.pack_bonus_button",
            N_("{{ credits }} + {{ bonus }} bonus credits – {{ stars }} ⭐"),
            "credits",
            "bonus",
            "stars",
        ),
        _spec(
            "payments.pack_gone",
            N_("This pack is no longer available. Send /buy to see the current ones."),
        ),
        _spec("payments.invoice_title", N_("{{ credits }} credits"), "credits"),
        _spec(
            "payments.invoice_description",
            N_("{{ credits }} credits to create with AI in {{ bot_name }}."),
            "credits",
        ),
        _spec(
            "payments.refused.unknown_order",
            N_("This invoice is not valid. Please use /buy to get a new one."),
        ),
        _spec(
            "payments.refused.not_yours",
            N_("This invoice was made for someone else. Please use /buy to get your own."),
        ),
        _spec(
            "payments.refused.already_paid",
            N_("This invoice has already been paid. Use /buy for a new purchase."),
        ),
        _spec(
            "payments.refused.amount_mismatch",
            N_("The amount does not match this order. Please use /buy to get a new invoice."),
        ),
        _spec(
            "payments.refused.unavailable",
            N_("This bot is not taking payments right now. You were not charged."),
        ),
        _spec(
            "payments.receipt",
            N_(
                "Thank you! {{ credits }} credits were added for {{ stars }} ⭐.\nYour balance: "
                "{{ balance }} credits."
            ),
            "credits",
            "stars",
            "balance",
        ),
        _spec(
            "payments.unmatched",
            N_(
                "We received your payment but could not match it to an order. The creator has "
                "been told and will sort it out."
            ),
        ),
        _spec("payments.owner_only", N_("Only the owner of this bot can do that.")),
        _spec("payments.refund_usage", N_("Send /refund followed by the payment's charge id.")),
        _spec("payments.refund_unknown", N_("I couldn't find a payment with that id in this bot.")),
        _spec("payments.refund_already", N_("This payment has already been refunded.")),
        _spec(
            "payments.refund_refused",
            N_(
                "I can't refund this payment: the fan has already spent {{ spent }} of its {{ "
                "credits }} credits, and Telegram only refunds whole payments."
            ),
            "spent",
            "credits",
        ),
        _spec(
            "payments.refund_done",
            N_(
                "Refunded {{ stars }} ⭐; {{ credits }} credits were taken back from the fan's "
                "balance."
            ),
            "stars",
            "credits",
        ),
        _spec("payments.report_none", N_("No payment check has run for this bot yet.")),
        _spec(
            "payments.report",
            N_(
                "Last payment check: {{ transactions }} Telegram transactions, {{ repaired }} "
                "missed payments credited, {{ mismatches }} mismatches."
            ),
            "transactions",
            "repaired",
            "mismatches",
        ),
        _spec(
            "error.tenant_unavailable",
            N_(
                "Generation is temporarily unavailable in this bot. Please try again later – "
                "you were not charged."
            ),
        ),
        _spec(
            "billing.ran_dry",
            N_(
                "@{{ bot_username }} has run out of platform credits, so your fans can't "
                "generate right now (they were not charged). Top up with /topup or renew your "
                "plan with /plan."
            ),
        ),
        _spec(
            "plans.choose",
            N_(
                "@{{ bot_username }} is on the {{ plan }} plan; platform balance: {{ balance }} "
                "credits.\nChoose a plan to buy or renew for 30 days:"
            ),
            "plan",
            "balance",
        ),
        _spec(
            "plans.choose_for",
            N_("Currently on {{ plan }}. Choose a plan for the next 30 days:"),
            "plan",
        ),
        _spec(
            "plans.topup_choose",
            N_(
                "@{{ bot_username }} platform balance: {{ balance }} credits ({{ plan }} "
                "plan).\nChoose a top-up:"
            ),
            "plan",
            "balance",
        ),
        _spec("plans.topup_pick", N_("Choose a top-up:")),
        _spec("plans.pick_bot", N_("Which bot is it for?")),
        _spec("plans.plan_button", N_("{{ plan }} – {{ stars }} ⭐ / 30 days"), "plan", "stars"),
        _spec(
            "plans.topup_button",
            N_("{{ credits }} platform credits – {{ stars }} ⭐"),
            "credits",
            "stars",
        ),
        _spec("plans.pay_button", N_("Pay {{ stars }} ⭐"), "stars"),
        _spec("plans.invoice_title", N_("Atelier {{ plan }}"), "plan"),
        _spec(
            "plans.invoice_description",
            N_(
                "The {{ plan }} plan for your bot, renewed every 30 days. Cancel any time in "
                "Telegram."
            ),
            "plan",
        ),
        _spec(
            "plans.pay_prompt",
            N_("{{ plan }} for 30 days: {{ stars }} ⭐, renewed automatically. Tap to pay:"),
            "plan",
            "stars",
        ),
        _spec("plans.topup_title", N_("{{ credits }} platform credits"), "credits"),
        _spec(
            "plans.topup_description",
            N_(
                "{{ credits }} credits on your Atelier platform balance, used by your fans' "
                "generations."
            ),
            "credits",
        ),
        _spec(
            "plans.activated",
            N_(
                "Thank you! The {{ plan }} plan is active for 30 more days.\nPlatform balance: "
                "{{ balance }} credits."
            ),
            "plan",
            "balance",
        ),
        _spec(
            "plans.topped_up",
            N_(
                "Thank you! {{ credits }} platform credits were added.\nPlatform balance: {{ "
                "balance }} credits."
            ),
            "credits",
            "balance",
        ),
        _spec(
            "plans.reminder",
            N_(
                "The {{ plan }} plan of @{{ bot_username }} ends on {{ date }}. Renew it with "
                "/plan to keep its limits."
            ),
            "plan",
            "date",
        ),
        _spec(
            "plans.expired",
            N_(
                "The {{ plan }} plan of @{{ bot_username }} has ended, so the bot is back on "
                "the Basic limits. Renew with /plan."
            ),
            "plan",
        ),
        # -- generation in chat and the assistant (issue 6)
        _spec(
            "gen.usage",
            N_(
                "Add a description after the command, for example: {{ command }} a cat in a space "
                "suit"
            ),
            "command",
        ),
        _spec("gen.queued", N_("⏳ {{ tool }}: waiting to start…"), "tool"),
        _spec(
            "gen.progress",
            N_("🎨 {{ tool }}: {{ progress }}% — {{ stage }}"),
            "tool",
            "progress",
            "stage",
        ),
        _spec(
            "gen.step_progress",
            N_("🎬 Step {{ step }} of {{ steps }} — {{ tool }}: {{ progress }}% — {{ stage }}"),
            "step",
            "steps",
            "tool",
            "progress",
            "stage",
        ),
        _spec(
            "gen.step_done",
            N_("✔️ Step {{ step }} of {{ steps }} is done, moving on…"),
            "step",
            "steps",
        ),
        _spec("gen.done", N_("✅ Done: {{ tool }}"), "tool"),
        _spec(
            "gen.failed",
            N_(
                "❌ {{ tool }} did not work: {{ error }}\nThe credits held for it were returned to "
                "your balance."
            ),
            "tool",
            "error",
        ),
        _spec(
            "gen.cancelled",
            N_("⏹ Cancelled. The credits held for it were returned to your balance."),
        ),
        _spec("gen.cancel_requested", N_("Stopping it… the held credits will be returned.")),
        _spec("gen.cancel_finished", N_("This generation has already finished.")),
        _spec(
            "gen.cancel_usage",
            N_(
                "Send /cancel_job with the job number, for example /cancel_job 12. /jobs lists "
                "your generations."
            ),
        ),
        _spec("gen.cancel_button", N_("Cancel")),
        _spec("gen.rerun_button", N_("Run again")),
        _spec("gen.variations_button", N_("Variations")),
        _spec("gen.open_drive_button", N_("Open in drive")),
        _spec(
            "gen.insufficient",
            N_(
                "This costs {{ price }} credits, but your balance is {{ balance }}. Top up with "
                "/buy and try again."
            ),
            "price",
            "balance",
        ),
        _spec("gen.buy_button", N_("Buy credits")),
        _spec("gen.buy_hint", N_("Send /buy to top up your credits.")),
        _spec(
            "gen.plan_limit",
            N_(
                "You have reached the generation limit for now. Wait for a running one to finish, "
                "or try again later."
            ),
        ),
        _spec("gen.invalid", N_("I can't run this as it is:\n{{ problems }}"), "problems"),
        _spec("gen.too_long", N_("is too long, please shorten it")),
        _spec("gen.unknown_tool", N_("That tool is not available in this bot.")),
        _spec(
            "gen.jobs_empty", N_("You have no generations yet. Try /image a cat in a space suit.")
        ),
        _spec("gen.jobs_header", N_("Your recent generations:")),
        _spec("gen.status_queued", N_("waiting")),
        _spec("gen.status_running", N_("in progress")),
        _spec("gen.status_succeeded", N_("done")),
        _spec("gen.status_failed", N_("failed")),
        _spec("gen.status_cancelled", N_("cancelled")),
        _spec(
            "assistant.plan",
            N_(
                "Here is my plan:\n{{ steps }}\n\nTotal: {{ total }} credits (your balance: {{ "
                "balance }})."
            ),
            "steps",
            "total",
            "balance",
        ),
        _spec("assistant.from_step", N_("from step {{ step }}"), "step"),
        _spec("assistant.seconds", N_("{{ seconds }} s"), "seconds"),
        _spec("assistant.run_button", N_("Run")),
        _spec("assistant.edit_button", N_("Edit")),
        _spec("assistant.cancel_button", N_("Cancel")),
        _spec("assistant.edit", N_("Tell me what to change and I will make a new plan.")),
        _spec("assistant.plan_cancelled", N_("OK, I dropped that plan.")),
        _spec(
            "assistant.plan_expired",
            N_("This plan has expired. Tell me again what you would like to make."),
        ),
        _spec("assistant.reset", N_("I have forgotten our conversation. Let's start fresh!")),
        _spec(
            "assistant.offline_reply",
            N_(
                "I can make pictures, video, sounds, music and speech for you. Try: “draw a dog "
                "in space, turn it into a 5 second video and add space sounds”, or use /image, "
                "/video, /audio and /tts."
            ),
        ),
        _spec(
            "assistant.daily_limit",
            N_(
                "The assistant has answered all it can for today. Please try again tomorrow – "
                "commands like /image still work."
            ),
        ),
        _spec(
            "assistant.limit_reached",
            N_(
                "The assistant of @{{ bot_username }} has answered {{ limit }} messages today, "
                'all your plan allows: fans get a polite "try tomorrow" until midnight UTC. '
                "Upgrade with /plan for more."
            ),
            "limit",
        ),
        # -- managed groups (issue 8)
        _spec(
            "groups.refused",
            N_(
                "Sorry, {{ bot_name }} can't stay here: its plan allows {{ limit }} groups and "
                "channels, and all are taken. The bot's owner can upgrade the plan or remove the "
                "bot from another chat, then add it again."
            ),
            "limit",
        ),
        # -- tasks and XP, stats (issue 8)
        _spec(
            "tasks.header",
            N_(
                "🏆 Level {{ level }} – {{ level_name }} · {{ xp }} XP\n"
                "\n"
                "Complete tasks to earn rewards:"
            ),
            "level",
            "level_name",
            "xp",
        ),
        _spec("tasks.next_level", N_("{{ missing }} XP to the next level."), "missing"),
        _spec("tasks.empty", N_("There are no tasks right now. Check back later!")),
        _spec("tasks.line", N_("{{ mark }} {{ title }} — {{ reward }}"), "mark", "title", "reward"),
        _spec(
            "tasks.line_progress",
            N_("{{ mark }} {{ title }} ({{ progress }}/{{ target }}) — {{ reward }}"),
            "mark",
            "title",
            "progress",
            "target",
            "reward",
        ),
        _spec("tasks.reward_xp", N_("{{ xp }} XP"), "xp"),
        _spec("tasks.reward_credits", N_("{{ credits }} credits"), "credits"),
        _spec("tasks.reward_post", N_("an exclusive post")),
        _spec("tasks.check_button", N_("Check: {{ title }}"), "title"),
        _spec("tasks.proof_button", N_("Send proof: {{ title }}"), "title"),
        _spec(
            "tasks.completed",
            N_("✅ Done: {{ title }}! You received {{ reward }}."),
            "title",
            "reward",
        ),
        _spec("tasks.already", N_("You have already completed “{{ title }}”."), "title"),
        _spec(
            "tasks.not_joined",
            N_("You haven't joined {{ chat }} yet. Join it, then tap Check again."),
            "chat",
        ),
        _spec(
            "tasks.not_enough_friends",
            N_(
                "You have invited {{ progress }} of {{ target }} friends so far. Send /invite to "
                "get your link."
            ),
            "progress",
            "target",
        ),
        _spec(
            "tasks.not_enough_days",
            N_(
                "You have opened the app {{ progress }} of {{ target }} days in a row. Come back "
                "tomorrow!"
            ),
            "progress",
            "target",
        ),
        _spec(
            "tasks.proof_in_app",
            N_("The creator checks this task. Send your proof in the app."),
        ),
        _spec(
            "tasks.pending",
            N_("Your proof for “{{ title }}” is waiting for the creator's review."),
            "title",
        ),
        _spec(
            "tasks.unavailable",
            N_("This task can't be checked right now. Please try again later."),
        ),
        _spec("tasks.gone", N_("This task is no longer available.")),
        _spec(
            "tasks.approved",
            N_("✅ Your proof for “{{ title }}” was approved! You received {{ reward }}."),
            "title",
            "reward",
        ),
        _spec(
            "tasks.rejected",
            N_("Your proof for “{{ title }}” was not accepted. You can send a new one in the app."),
            "title",
        ),
        _spec("level.1", N_("Newcomer")),
        _spec("level.2", N_("Fan")),
        _spec("level.3", N_("Supporter")),
        _spec("level.4", N_("Superfan")),
        _spec("level.5", N_("Legend")),
        _spec("level.other", N_("Level {{ level }}"), "level"),
        _spec(
            "stats.summary",
            N_(
                "📊 {{ bot_name }} – last {{ days }} days\n"
                "\n"
                "New fans: {{ new_users }} (total {{ total_users }})\n"
                "Active fans today: {{ active_today }} ({{ active_average }} a day on average)\n"
                "Revenue: {{ revenue }} ⭐\n"
                "Generations: {{ jobs }} ({{ credits_spent }} credits spent)\n"
                "Tasks completed: {{ tasks_completed }}"
            ),
            "days",
            "new_users",
            "total_users",
            "active_today",
            "active_average",
            "revenue",
            "jobs",
            "credits_spent",
            "tasks_completed",
        ),
        _spec("stats.chart_title", N_("{{ bot_name }}: last {{ days }} days"), "days"),
        _spec("stats.legend_new", N_("New fans")),
        _spec("stats.legend_active", N_("Active fans")),
        _spec("stats.legend_revenue", N_("Revenue (Stars)")),
        # -- premium content and VIP (issue 8)
        _spec("content.invoice_title", N_("Unlock a post")),
        _spec("content.invoice_description", N_("An exclusive post from {{ bot_name }}.")),
        _spec(
            "content.refund_done",
            N_("Refunded {{ stars }} ⭐; the fan's unlock of that post was taken back."),
            "stars",
        ),
        _spec("feed.empty", N_("There are no posts yet. Check back soon!")),
        _spec("feed.header", N_("The latest posts of {{ bot_name }}:")),
        _spec("feed.locked_ppv", N_("🔒 Unlock this post for {{ stars }} ⭐."), "stars"),
        _spec("feed.locked_vip", N_("🔒 This post is for VIP members.")),
        _spec("feed.locked_task", N_("🔒 Complete a task to unlock this post.")),
        _spec("feed.unlock_button", N_("Unlock for {{ stars }} ⭐"), "stars"),
        _spec("feed.vip_button", N_("Join VIP")),
        _spec("feed.task_button", N_("How to unlock")),
        _spec(
            "feed.task_hint",
            N_(
                "Complete the creator's task to unlock this post. The post opens by itself once it "
                "is done."
            ),
        ),
        _spec(
            "feed.already_unlocked",
            N_("You have already unlocked this post. Send /feed to see it."),
        ),
        _spec("feed.post_gone", N_("This post is no longer available.")),
        _spec("feed.not_for_sale", N_("This post is not sold on its own.")),
        _spec(
            "feed.unlocked",
            N_("Unlocked! Thank you for {{ stars }} ⭐. Here is your post:"),
            "stars",
        ),
        _spec("feed.too_large", N_("This file is too large to send in chat. Open it in the app.")),
        _spec(
            "vip.invoice_description",
            N_(
                "{{ package }} VIP membership in {{ bot_name }}, renewed every 30 days. Cancel any "
                "time."
            ),
            "package",
        ),
        _spec("vip.header", N_("VIP membership of {{ bot_name }}:")),
        _spec("vip.none", N_("There are no VIP packages yet.")),
        _spec(
            "vip.package_line",
            N_("⭐ {{ package }} – {{ stars }} ⭐ / 30 days"),
            "package",
            "stars",
        ),
        _spec(
            "vip.status_active",
            N_("Your membership is active until {{ date }} and renews automatically."),
            "date",
        ),
        _spec(
            "vip.status_cancelled",
            N_("Renewal is cancelled; your access lasts until {{ date }}."),
            "date",
        ),
        _spec("vip.buy_button", N_("Join {{ package }} – {{ stars }} ⭐"), "package", "stars"),
        _spec("vip.cancel_button", N_("Cancel renewal of {{ package }}"), "package"),
        _spec(
            "vip.pay_prompt",
            N_("{{ package }} for 30 days: {{ stars }} ⭐, renewed automatically. Tap to pay:"),
            "package",
            "stars",
        ),
        _spec(
            "vip.welcome",
            N_(
                "Welcome to {{ package }}! Your VIP access runs until {{ date }} and renews "
                "automatically."
            ),
            "package",
            "date",
        ),
        _spec(
            "vip.renewed",
            N_("Your {{ package }} membership was renewed until {{ date }}. Thank you!"),
            "package",
            "date",
        ),
        _spec(
            "vip.invite",
            N_("Here is your invite to the private channel of {{ package }}. It works once:"),
            "package",
        ),
        _spec("vip.join_button", N_("Join the channel")),
        _spec(
            "vip.no_invite",
            N_("The private channel of {{ package }} is not ready yet; the creator will add you."),
            "package",
        ),
        _spec(
            "vip.cancelled",
            N_("Renewal of {{ package }} is cancelled. Your VIP access lasts until {{ date }}."),
            "package",
            "date",
        ),
        _spec("vip.already", N_("You are subscribed to this package already.")),
        _spec(
            "vip.not_cancellable",
            N_("This subscription does not renew, so there is nothing to cancel."),
        ),
        _spec(
            "vip.package_gone",
            N_("This package is no longer available. Send /vip to see the current ones."),
        ),
        _spec("vip.for_post", N_("This post opens with any of these VIP packages:")),
        _spec(
            "vip.reminder",
            N_("Your {{ package }} membership ends on {{ date }}. Send /vip to join again."),
            "package",
            "date",
        ),
        _spec(
            "vip.expired",
            N_("Your {{ package }} membership has ended. Send /vip to join again."),
            "package",
        ),
        _spec(
            "ton.paid_credits",
            N_(
                "Payment received: {{ amount }} TON. {{ credits }} credits were added.\n"
                "Your balance: {{ balance }} credits."
            ),
            "amount",
            "credits",
            "balance",
        ),
        _spec(
            "ton.paid",
            N_("Payment received: {{ amount }} TON. Thank you, your purchase is unlocked!"),
            "amount",
        ),
        _spec(
            "ton.overpaid",
            N_(
                "You sent {{ extra }} TON more than the price. The difference is on record: "
                "ask the creator if you would like it back."
            ),
            "extra",
        ),
        _spec(
            "ton.underpaid",
            N_(
                "We received {{ received }} TON, but the price is {{ due }} TON, so nothing "
                "was unlocked yet. Send the missing {{ missing }} TON with the same comment to "
                "complete the payment: {{ comment }}"
            ),
            "received",
            "due",
            "missing",
            "comment",
        ),
        # -- broadcasts, for the creator and co-admins (issue 8)
        _spec(
            "broadcast.ask",
            N_(
                "Send me the message for your fans: text, or a photo, video, audio or document "
                "with a caption. Formatting and links are kept. Send /cancel to stop."
            ),
        ),
        _spec("broadcast.invalid", N_("I can't broadcast this: {{ problem }}"), "problem"),
        _spec(
            "broadcast.unsupported", N_("Send text, a photo, a video, an audio file or a document.")
        ),
        _spec(
            "broadcast.pick_audience", N_("This is how your fans will see it ☝️\nWho should get it?")
        ),
        _spec("broadcast.audience_all", N_("Everyone")),
        _spec("broadcast.audience_inactive", N_("Inactive for {{ days }} days"), "days"),
        _spec(
            "broadcast.confirm", N_("{{ count }} fans will get this message. Send it now?"), "count"
        ),
        _spec("broadcast.nobody", N_("No fan matches this audience. Pick another one.")),
        _spec("broadcast.send_button", N_("Send now")),
        _spec("broadcast.cancel_button", N_("Cancel")),
        _spec("broadcast.pause_button", N_("Pause")),
        _spec("broadcast.resume_button", N_("Resume")),
        _spec(
            "broadcast.progress",
            N_(
                "📣 Sending: {{ done }} of {{ total }}\n"
                "✅ {{ sent }} sent · ❌ {{ failed }} failed · 🚫 {{ blocked }} blocked\n"
                "{{ rate }} messages/s, about {{ eta }} s left"
            ),
            "done",
            "total",
            "sent",
            "failed",
            "blocked",
            "rate",
            "eta",
        ),
        _spec(
            "broadcast.paused",
            N_("⏸ Paused at {{ done }} of {{ total }} ({{ sent }} sent)."),
            "done",
            "total",
            "sent",
        ),
        _spec(
            "broadcast.limited",
            N_(
                "⏳ Your plan's daily broadcast limit is reached at {{ done }} of {{ total }}. "
                "Sending continues by itself tomorrow or after a plan upgrade."
            ),
            "done",
            "total",
        ),
        _spec(
            "broadcast.done",
            N_(
                "✅ Broadcast finished: {{ sent }} sent, {{ failed }} failed, {{ blocked }} "
                "blocked the bot."
            ),
            "sent",
            "failed",
            "blocked",
        ),
        _spec(
            "broadcast.cancelled",
            N_("⏹ Broadcast cancelled: {{ sent }} of {{ total }} were sent."),
            "sent",
            "total",
        ),
        _spec(
            "broadcast.busy",
            N_("Another broadcast is still being sent. Wait for it to finish or cancel it first."),
        ),
        _spec("broadcast.stale", N_("This broadcast can't be changed any more.")),
        _spec("broadcast.dropped", N_("OK, this broadcast is dropped.")),
        # -- TON in chat: /wallet (TON Connect) and paying with TON (bot.wallet_ton)
        _spec(
            "tonconnect.choose",
            N_("Connect your TON wallet to pay with TON. Which wallet app do you use?"),
        ),
        _spec("tonconnect.linked", N_("Your TON wallet: {{ address }}"), "address"),
        _spec(
            "tonconnect.scan",
            N_(
                "Scan this QR code with {{ wallet }}, or tap the button below. The link works for "
                "{{ minutes }} minutes."
            ),
            "wallet",
            "minutes",
        ),
        _spec("tonconnect.open_button", N_("Open {{ wallet }}"), "wallet"),
        _spec("tonconnect.cancel_button", N_("Cancel")),
        _spec("tonconnect.disconnect_button", N_("Disconnect")),
        _spec("tonconnect.connected", N_("Connected: {{ address }}"), "address"),
        _spec(
            "tonconnect.refused",
            N_(
                "Your wallet could not prove that it is yours, so it was not connected. Please try "
                "again with /wallet."
            ),
        ),
        _spec(
            "tonconnect.taken",
            N_("This wallet is already connected to another account of this bot."),
        ),
        _spec(
            "tonconnect.declined",
            N_("The connection was declined in your wallet. Send /wallet to try again."),
        ),
        _spec("tonconnect.failed", N_("Your wallet could not connect. Send /wallet to try again.")),
        _spec("tonconnect.expired", N_("This link has expired. Send /wallet to get a new one.")),
        _spec(
            "tonconnect.unreachable",
            N_(
                "Your wallet's connection service cannot be reached right now. Please try again "
                "later."
            ),
        ),
        _spec("tonconnect.cancelled", N_("Connection cancelled.")),
        _spec("tonconnect.disconnected", N_("Your TON wallet was disconnected.")),
        _spec("tonconnect.gone", N_("This wallet is not available any more. Send /wallet again.")),
        _spec("tonpay.button", N_("💎 Pay with TON")),
        _spec("tonpay.choose", N_("Choose a credit pack to pay for with TON.")),
        _spec(
            "tonpay.pack_button",
            N_("{{ credits }} credits – {{ amount }} TON"),
            "credits",
            "amount",
        ),
        _spec(
            "tonpay.invoice",
            N_(
                "Send exactly {{ amount }} TON for {{ credits }} credits.\nTo: {{ address "
                "}}\nComment: {{ comment }}\nScan the QR code with your wallet, or open this link "
                "in it:\n{{ link }}\nThe invoice is valid until {{ expires }} UTC."
            ),
            "amount",
            "credits",
            "address",
            "comment",
            "link",
            "expires",
        ),
        _spec(
            "tonpay.asked_wallet",
            N_("I sent the payment request to your wallet {{ address }}. Please confirm it there."),
            "address",
        ),
        _spec(
            "tonpay.waiting",
            N_(
                "Your wallet sent the payment. Waiting for the network to confirm it — I will let "
                "you know."
            ),
        ),
        _spec(
            "tonpay.rejected",
            N_("The payment was declined in your wallet. You can still pay with the link above."),
        ),
        _spec(
            "tonpay.no_answer",
            N_("Your wallet did not answer in time. You can still pay with the link above."),
        ),
        _spec("tonpay.unavailable", N_("Paying with TON is not available right now.")),
        _spec(
            "tonpay.invoice_ppv",
            N_(
                "Send exactly {{ amount }} TON to unlock this post.\nTo: {{ address }}\nComment: "
                "{{ comment }}\nScan the QR code with your wallet, or open this link in it:\n{{ "
                "link }}\nThe invoice is valid until {{ expires }} UTC."
            ),
            "amount",
            "address",
            "comment",
            "link",
            "expires",
        ),
        _spec(
            "tonpay.invoice_vip",
            N_(
                "Send exactly {{ amount }} TON for 30 days of {{ package }}.\nTo: {{ address }}\n"
                "Comment: {{ comment }}\nScan the QR code with your wallet, or open this link in "
                "it:\n{{ link }}\nThe invoice is valid until {{ expires }} UTC."
            ),
            "amount",
            "package",
            "address",
            "comment",
            "link",
            "expires",
        ),
        _spec("tonpay.unlock_button", N_("💎 Unlock for {{ amount }} TON"), "amount"),
        _spec(
            "tonpay.vip_button",
            N_("💎 {{ package }}: 30 days for {{ amount }} TON"),
            "package",
            "amount",
        ),
    )
}

#: Values for the trial render when a template is saved: every documented variable.
SAMPLE_VALUES: dict[str, Any] = {
    "user_name": "Alice",
    "user_username": "alice",
    "bot_name": "Art Studio",
    "bot_username": "art_studio_bot",
    "balance": 42,
    "reward": 10,
    "referral_link": "https://t.me/art_studio_bot?start=ref_1a",
    "app_url": "https://example.com/app/?bot=1",
    "friend_name": "Bob",
    "command": "/unknown",
    "plan": "Basic",
    "panel_url": "https://example.com/app/?bot=1#creator",
    "status": "active",
    # tasks and stats (issue 8)
    "level": 2,
    "level_name": "Fan",
    "xp": 150,
    "missing": 150,
    "mark": "⬜",
    "title": "Join our channel",
    "progress": 2,
    "target": 5,
    "credits": 10,
    "chat": "Art Studio News",
    "days": 30,
    "new_users": 120,
    "total_users": 1500,
    "active_today": 80,
    "active_average": 75,
    "revenue": 2500,
    "jobs": 640,
    "credits_spent": 9800,
    "tasks_completed": 37,
}

# Tags a chat text never needs; forbidding them keeps templates cheap and predictable (a
# nested loop over range() would otherwise let one template burn seconds of CPU per message).
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.For: "loops ({% for %}) are not allowed",
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "call blocks are not allowed",
    nodes.Include: "includes are not allowed",
    nodes.Import: "imports are not allowed",
    nodes.FromImport: "imports are not allowed",
    nodes.Extends: "template inheritance is not allowed",
    nodes.Block: "blocks are not allowed",
    nodes.FilterBlock: "filter blocks are not allowed",
    nodes.With: "with blocks are not allowed",
    nodes.Assign: "assignments ({% set %}) are not allowed",
    nodes.AssignBlock: "assignments ({% set %}) are not allowed",
}


class TemplateRejectedError(ValidationError):
    """A template a creator tried to save; ``details`` carries ``line`` and ``reason``."""

    code = "template_rejected"

    def __init__(self, reason: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{reason}", line=line, reason=reason)
        self.line = line
        self.reason = reason


class UnknownTextError(NotFoundError):
    code = "unknown_text"


_environment = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Compile once per distinct source; defaults and overrides are few and reused."""
    return _environment.from_string(source)


def check_template(source: str) -> None:
    """Refuse a template that does not parse, reaches for private attributes, uses a
    forbidden tag or trips the sandbox when rendered with sample values."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRejectedError(f"the text is longer than {MAX_TEMPLATE_CHARS} characters")
    if not source.strip():
        raise TemplateRejectedError("the text is empty")
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRejectedError(exc.message or "syntax error", exc.lineno) from None
    for node in tree.find_all(nodes.Node):
        _check_node(node)
    try:
        compile_template(source).render(SAMPLE_VALUES)
    except SecurityError as exc:
        raise TemplateRejectedError(f"not allowed: {exc}", _error_line(exc)) from None
    except TemplateError as exc:
        raise TemplateRejectedError(str(exc) or type(exc).__name__, _error_line(exc)) from None
    except Exception as exc:
        raise TemplateRejectedError(
            f"fails with sample values: {type(exc).__name__}: {exc}", _error_line(exc)
        ) from None


def _check_node(node: nodes.Node) -> None:
    line = getattr(node, "lineno", None)
    for forbidden, reason in _FORBIDDEN_NODES.items():
        if isinstance(node, forbidden):
            raise TemplateRejectedError(reason, line)
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise TemplateRejectedError(f"access to private attribute {node.attr!r}", line)
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
        and node.arg.value.startswith("_")
    ):
        raise TemplateRejectedError(f"access to private attribute {node.arg.value!r}", line)
    if isinstance(node, nodes.Filter | nodes.Test) and node.name == "attr":
        raise TemplateRejectedError("the attr filter is not allowed", line)


def _error_line(exc: BaseException) -> int | None:
    """The template line of a render error, from the traceback jinja2 rewrites."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render a (trusted or checked) template; errors propagate to the caller."""
    if "{" not in source:
        return source[:MAX_RENDERED_CHARS]  # a plain label: nothing to render
    return renderer(source)(variables)[:MAX_RENDERED_CHARS]


Renderer = Callable[[Mapping[str, Any]], str]
# Names a template may print that are not plain variables: jinja's own, and its globals.
_SPECIAL_NAMES = frozenset({"self", "loop", "caller", "varargs", "kwargs", "super"})


@lru_cache(maxsize=4096)
def renderer(source: str) -> Renderer:
    """How to render ``source``, decided once per distinct source. Nearly every text is
    words with ``{{ variable }}`` in between; those are joined directly (what jinja's own
    code for them does: ``str`` of the value, "" for a missing one) instead of through a
    jinja render — a new context, its ChainMap of globals and a generator per call, several
    times per update. Anything else (filters, conditions, attributes...) renders with jinja."""
    parts = _substitutions(source)
    if parts is None:
        return compile_template(source).render
    return partial(_substitute, parts)


def _substitutions(source: str) -> tuple[tuple[str, bool], ...] | None:
    """``source`` as (text, is_variable) pieces, or None when it is more than that."""
    try:
        body = _environment.parse(source).body
    except TemplateSyntaxError:
        return None  # compile_template raises the same error for the caller
    parts: list[tuple[str, bool]] = []
    for node in body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append((child.data, False))
            elif (
                isinstance(child, nodes.Name)
                and child.ctx == "load"
                and child.name not in _SPECIAL_NAMES
                and child.name not in _environment.globals
            ):
                parts.append((child.name, True))
            else:
                return None
    return tuple(parts)


def _substitute(parts: tuple[tuple[str, bool], ...], variables: Mapping[str, Any]) -> str:
    return "".join([str(variables.get(piece, "")) if name else piece for piece, name in parts])


def render_with_fallback(
    override: str | None, default: str, variables: Mapping[str, Any], *, context: str = ""
) -> str:
    """The override when it renders, else the default: a creator's mistake never reaches fans.

    The default itself comes from our catalogue; if even that fails (a broken translation)
    the untranslated source is the last resort.
    """
    if override is not None:
        try:
            return render(override, variables)
        except Exception:
            logger.warning("tenant text failed to render, using the default: %s", context)
    try:
        return render(default, variables)
    except Exception:
        logger.exception("default text failed to render: %s", context)
        return default


# -- overrides ---------------------------------------------------------------------------------


def _spec_for(key: str) -> TextSpec:
    spec = TEXTS.get(key)
    if spec is None:
        raise UnknownTextError(f"no text with key {key!r}", key=key)
    return spec


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError(
            f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}",
            language=language,
        )


async def save_override(
    session: AsyncSession, tenant_id: int, key: str, language: str, template: str
) -> TenantText:
    """Validate and store a creator's text. The caller commits, then tells the bot runtime
    (``tenants.webhooks.bump_route_version``) so every process drops its cached copy."""
    _spec_for(key)
    _check_language(language)
    check_template(template)
    row = (
        await session.execute(
            tenant_select(TenantText, tenant_id).where(
                TenantText.key == key, TenantText.language == language
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = TenantText(tenant_id=tenant_id, key=key, language=language, template=template)
        session.add(row)
    else:
        row.template = template
        row.updated_at = utcnow()
    await session.flush()
    return row


async def clear_override(session: AsyncSession, tenant_id: int, key: str, language: str) -> bool:
    """Back to the default; True when there was an override."""
    _spec_for(key)
    result = await session.execute(
        delete(TenantText).where(
            TenantText.tenant_id == tenant_id,
            TenantText.key == key,
            TenantText.language == language,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def load_overrides(session: AsyncSession, tenant_id: int) -> dict[tuple[str, str], str]:
    """Every override of a tenant as ``{(key, language): template}``."""
    rows = (await session.execute(tenant_select(TenantText, tenant_id))).scalars()
    return {(row.key, row.language): row.template for row in rows}


def documented_variables(keys: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Which variables each text receives (for the creator panel's editor)."""
    wanted = TEXTS if keys is None else {k: _spec_for(k) for k in keys}
    return {key: spec.variables for key, spec in wanted.items()}
