"""Membership changes: a fan blocking or unblocking the bot."""
