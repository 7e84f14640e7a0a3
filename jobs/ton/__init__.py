"""Worker side of TON payments: the merchant-wallet watcher, creator payouts, fans' notices."""
