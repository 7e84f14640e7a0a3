"""The fan's own settings: ``/language`` and ``/cancel``."""
