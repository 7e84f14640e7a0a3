"""Fans pay for credits with Telegram Stars in every tenant bot."""
