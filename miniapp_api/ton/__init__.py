"""Mini App TON: proof payloads, linking a wallet with a verified ``ton_proof``, the manifest,
TON prices and invoices."""
