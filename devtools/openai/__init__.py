"""An OpenAI-compatible server for tests and demos (see :mod:`devtools.openai.testing`)."""

from devtools.openai.app import create_app
from devtools.openai.control import (
    DEFAULT_API_KEY,
    ChatReply,
    Fault,
    OpenAIServerConfig,
    OpenAIServerControl,
    RecordedRequest,
    ScriptedToolCall,
)

__all__ = [
    "DEFAULT_API_KEY",
    "ChatReply",
    "Fault",
    "OpenAIServerConfig",
    "OpenAIServerControl",
    "RecordedRequest",
    "ScriptedToolCall",
    "create_app",
]
