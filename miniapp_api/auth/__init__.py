"""Mini App sign-in: Telegram initData in, a short-lived bearer token out."""
