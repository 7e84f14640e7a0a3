"""``/vip``: VIP packages, subscribing with Stars, cancelling the renewal."""
