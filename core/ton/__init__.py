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
  any v3 GET (transactions for the watcher), 429 back-off.
* :mod:`core.ton.errors` — one typed error per refusal, each with its own code.

Linking a wallet to a fan (nonces in Redis, the ``ton_wallets`` table) is
:mod:`tenants.ton.service`; the Mini App routes are :mod:`miniapp_api.ton.endpoints`.
Nothing is imported here, so ``core.settings`` can use :mod:`core.ton.address` cheaply.
"""
