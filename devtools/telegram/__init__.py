"""Telegram Bot API emulator with a chat page: bots talk to it over HTTP as to api.telegram.org.

Entry points: ``create_app`` (the ASGI app), ``EmulatorClient`` (the control API from Python),
``running_emulator`` (tests), ``EMULATOR_PUBLIC_KEY`` (verifies the emulator's Mini App
``signature``). See ``devtools/telegram/initdata.py`` for the test signing key.
"""

from devtools.telegram.app import create_app
from devtools.telegram.client import (
    BotInfo,
    EmulatorClient,
    EmulatorError,
    TranscriptEntry,
    UserInfo,
)
from devtools.telegram.initdata import EMULATOR_PUBLIC_KEY, TEST_SIGNING_SEED
from devtools.telegram.state import EmulatorSettings, Limits
from devtools.telegram.testing import running_emulator

__all__ = [
    "EMULATOR_PUBLIC_KEY",
    "TEST_SIGNING_SEED",
    "BotInfo",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorSettings",
    "Limits",
    "TranscriptEntry",
    "UserInfo",
    "create_app",
    "running_emulator",
]
