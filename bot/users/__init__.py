"""Fans as the bot sees them: the cached user snapshot and its upsert."""
