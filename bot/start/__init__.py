"""``/start`` (with deep-link payloads), ``/help`` and ``/app``."""
