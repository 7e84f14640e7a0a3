"""VIP packages and the fans' subscriptions to them (Telegram Stars subscriptions)."""
