"""TON wallets in chat: ``/wallet`` connects one through TON Connect (pytonconnect, sessions in
Redis), and the purchase flows offer "Pay with TON" (:mod:`bot.wallet_ton.pay`)."""
