"""Stand-ins for the services out of reach here (Telegram, OpenAI, predictions, TON)."""
