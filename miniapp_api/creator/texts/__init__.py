"""``/api/v1/creator/texts``: the bot's texts, their defaults per language, the creator's
overrides (sandbox-checked on save), and a live preview."""
