"""A Replicate-compatible predictions server: create → poll → fetch output, over real HTTP."""

from devtools.predictions.app import create_app
from devtools.predictions.control import (
    DEFAULT_API_KEY,
    Fault,
    PredictionsServerConfig,
    PredictionsServerControl,
    RecordedRequest,
)
from devtools.predictions.testing import running_predictions_server

__all__ = [
    "DEFAULT_API_KEY",
    "Fault",
    "PredictionsServerConfig",
    "PredictionsServerControl",
    "RecordedRequest",
    "create_app",
    "running_predictions_server",
]
