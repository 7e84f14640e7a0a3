"""Direct generation commands through the emulator: what the fan sees, and what it costs."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Job, JobStatus
from tests.bot.conftest import Platform
from tests.bot.generation.conftest import (
    balance,
    bot_messages,
    fan_of,
    media_of,
    run_jobs,
    with_text,
)

IMAGE_PRICE = 4


async def test_image_command_delivers_a_photo_with_buttons(
    platform: Platform, catalog: None
) -> None:
    fan = await fan_of(platform, credits=100)
    await platform.emulator.send_message(fan.bot, fan.user, "/image a red fox in the snow")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "waiting to start"))
    progress = with_text(entries, "waiting to start")[0]
    assert [b["callback_data"] for b in progress.buttons] == [f"gen:cancel:job:{_id(progress)}"]
    await platform.settled(fan.bot, fan.user)
    held = await balance(platform, fan)
    assert (held.balance, held.reserved) == (100, IMAGE_PRICE)

    await run_jobs(platform.settings)

    entries = await bot_messages(platform, fan, lambda e: media_of(e, "photo"))
    photo = media_of(entries, "photo")[0]
    labels = [b["text"] for b in photo.buttons]
    assert labels == ["Run again", "Variations", "Open in drive"]
    drive = photo.buttons[2]["web_app"]["url"]
    assert f"?bot={fan.bot.id}#/drive/file/" in drive
    final = next(e for e in entries if e.message_id == progress.message_id)
    assert final.text is not None and final.text.startswith("✅ Done")
    assert final.edit_date is not None
    after = await balance(platform, fan)
    assert (after.balance, after.reserved) == (100 - IMAGE_PRICE, 0)


def _id(entry: object) -> str:
    """The job id from the progress message's Cancel button."""
    buttons = getattr(entry, "buttons")  # noqa: B009 - TranscriptEntry property
    return str(buttons[0]["callback_data"].rsplit(":", 1)[1])


async def test_not_enough_credits_offers_buy_and_charges_nothing(
    platform: Platform, catalog: None
) -> None:
    fan = await fan_of(platform, credits=2)
    await platform.emulator.send_message(fan.bot, fan.user, "/image a red fox")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "Top up"))
    refusal = with_text(entries, "Top up")[0]
    assert "costs 4 credits" in (refusal.text or "") and "balance is 2" in (refusal.text or "")
    assert refusal.buttons[0]["callback_data"] == "gen:buy"
    answer = await platform.emulator.press_button(fan.bot, fan.user, refusal.message_id, "gen:buy")
    assert answer.text is not None and "/buy" in answer.text
    after = await balance(platform, fan)
    assert (after.balance, after.reserved) == (2, 0)
    async with platform.session_factory() as session:
        assert (await session.scalars(select(Job))).all() == []


async def test_bad_input_is_explained_per_field(platform: Platform, catalog: None) -> None:
    fan = await fan_of(platform)
    await platform.emulator.send_message(fan.bot, fan.user, "/image")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "for example: /image"))
    assert entries
    await platform.emulator.send_message(fan.bot, fan.user, "/audio " + "rain " * 200)
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "too long"))
    text = with_text(entries, "too long")[0].text or ""
    assert "prompt: is too long" in text and "rain rain" not in text
    assert (await balance(platform, fan)).reserved == 0


async def test_cancel_button_stops_a_queued_job_and_returns_the_credits(
    platform: Platform, catalog: None
) -> None:
    fan = await fan_of(platform, credits=50)
    await platform.emulator.send_message(fan.bot, fan.user, "/audio rain on a tin roof")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "waiting to start"))
    progress = with_text(entries, "waiting to start")[0]
    await platform.settled(fan.bot, fan.user)
    answer = await platform.emulator.press_button(
        fan.bot, fan.user, progress.message_id, progress.buttons[0]["callback_data"]
    )
    assert answer.text is not None and answer.text.startswith("⏹ Cancelled")
    entries = await bot_messages(
        platform,
        fan,
        lambda e: any(x.message_id == progress.message_id and x.edit_date for x in e),
    )
    edited = next(e for e in entries if e.message_id == progress.message_id)
    assert (edited.text or "").startswith("⏹ Cancelled")
    after = await balance(platform, fan)
    assert (after.balance, after.reserved) == (50, 0)

    await platform.emulator.send_message(fan.bot, fan.user, "/jobs")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "recent generations"))
    assert "— cancelled" in (with_text(entries, "recent generations")[0].text or "")
    await platform.emulator.send_message(fan.bot, fan.user, "/cancel_job")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "/cancel_job 12"))
    assert entries


async def test_a_failing_provider_tells_the_fan_and_releases_the_credits(
    platform: Platform, catalog: None
) -> None:
    """``image-generate`` runs on OpenAI; the stand-in refuses it for quota: a permanent
    failure, reported in the progress message, nothing charged."""
    from devtools.openai.testing import running_openai_server

    fan = await fan_of(platform, credits=30)
    async with running_openai_server() as (base_url, control):
        settings = platform.settings.model_copy(
            update={"openai_api_key": control.api_key, "openai_base_url": base_url}
        )
        control.quota_exceeded_next(5, path="images")
        await platform.emulator.send_message(fan.bot, fan.user, "/image a lighthouse")
        entries = await bot_messages(platform, fan, lambda e: with_text(e, "waiting to start"))
        progress = with_text(entries, "waiting to start")[0]
        await platform.settled(fan.bot, fan.user)
        await run_jobs(settings)
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "did not work"))
    failed = with_text(entries, "did not work")[0]
    assert failed.message_id == progress.message_id
    assert "returned to your balance" in (failed.text or "")
    after = await balance(platform, fan)
    assert (after.balance, after.reserved) == (30, 0)
    async with platform.session_factory() as session:
        job = (await session.scalars(select(Job))).one()
    assert job.status == JobStatus.FAILED
