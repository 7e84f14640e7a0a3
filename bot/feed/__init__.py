"""``/feed``: the creator's latest posts in chat, locked ones with the way to unlock them."""
