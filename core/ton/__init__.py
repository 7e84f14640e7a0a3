"""TON for Atelier: addresses, wallet contracts, ``ton_proof`` and the toncenter client.

Pure rules, no I/O of their own except the HTTP client the caller opens and injects:

* :mod:`core.ton.address` — ``parse_address`` (raw or user-friendly) → :class:`TonAddress`
  with ``.raw`` and ``.friendly(bounceable=, testnet=)`` / ``.wallet_form(network)``.
* :mod:`core.ton.amounts` — nanotons ⇄ TON (``to_nano("1.5")``, ``format_ton(nano)``).
* :mod:`core.ton.wallets` — the v3R2/v4R2/v5R1 wallet codes and data layouts: recognise a
  wallet and read its public key, or build one (``wallet_state_init``) for tests, the devtools
  chain and the platform wallet.
* :mod:`core.ton.proof` — ``verify_ton_proof`` (TON Connect ``ton_proof``, checked by our own
  rules) and ``sign_ton_proof`` (what a wallet does).
* :mod:`core.ton.toncenter` — ``ToncenterClient``: ``runGetMethod``, ``get_public_key``,
  ``seqno``, ``transactions`` (v3, parsed), ``send_boc`` (never retried), 429 back-off.
* :mod:`core.ton.transactions` — toncenter v3 transactions as typed records, and
  ``verdict_of``: did an incoming transfer's value stay with us (final, not bounced, …).
* :mod:`core.ton.messages` — comment cells, internal/external messages, their hashes.
* :mod:`core.ton.paylinks` — invoice comments, the TON Connect ``sendTransaction`` request and
  the ``ton://transfer`` link.
* :mod:`core.ton.platform` — ``PlatformWallet``: the payout wallet (v4R2, from the mnemonic)
  and its signed transfers.
* :mod:`core.ton.errors` — one typed error per refusal, each with its own code.

Linking a wallet to a fan (nonces in Redis, the ``ton_wallets`` table) is
:mod:`tenants.ton.service`; prices and invoices :mod:`tenants.ton.invoices`, the payment
watcher :mod:`tenants.ton.watcher`, creator payouts :mod:`tenants.ton.payouts`; the Mini App
routes are :mod:`miniapp_api.ton.endpoints` and :mod:`miniapp_api.creator.ton`.
Nothing is imported here, so ``core.settings`` can use :mod:`core.ton.address` cheaply.
"""
