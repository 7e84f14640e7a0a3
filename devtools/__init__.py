"""Stand-ins for the services out of reach here (Telegram, OpenAI, predictions, TON)."""

KEEP_ALIVE_S = 75
"""How long the stand-ins' servers keep an idle connection open: longer than httpx's
5-second pool expiry, so a client always drops an idle connection first. With both at 5 s a
request sent just as the server closed its connection failed with ``ReadError``."""
