"""TON wallets of fans: proof payloads (nonces), verified linking, unlinking.

Shared by the Mini App API (:mod:`miniapp_api.ton`), the bot's ``/wallet`` and the payment
watcher and payouts, so it lives below all of them; the rules of the proof itself are
:mod:`core.ton.proof`.
"""
