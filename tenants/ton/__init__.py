"""TON for a tenant's fans and creator: linked wallets (``service``: proof payloads, verified
linking, unlinking), prices and invoices (``invoices``), the payment watcher that pays invoices
from the merchant wallet's transactions (``watcher``), and creator payouts from the platform
wallet (``payouts``); all SQL of the payments side is in ``payments_repository``.

Shared by the Mini App API (:mod:`miniapp_api.ton`, :mod:`miniapp_api.creator.ton`), the bot
(``/wallet`` and the TON buttons of ``/buy`` call the same functions) and the worker
(:mod:`jobs.ton.tasks`), so it lives below all of them; the chain-level rules are
:mod:`core.ton`.
"""
