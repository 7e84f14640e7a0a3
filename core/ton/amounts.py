"""Amounts of TON: integers of nanotons everywhere, decimal TON only at the edges.

1 TON = 10⁹ nanotons. Prices, invoices and payouts store nanotons (``BigInteger``) so sums
are exact; :func:`to_nano` reads what a creator types ("1.5") and refuses what cannot be paid
exactly (more than nine decimals, negative), :func:`format_ton` writes it back without noise.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

NANO_PER_TON = 10**9
_NANO = Decimal(NANO_PER_TON)


def to_nano(value: Decimal | str | int) -> int:
    """``"1.5"`` → ``1_500_000_000``; ``ValueError`` for negatives, non-numbers, sub-nano."""
    try:
        amount = Decimal(value) * _NANO
    except InvalidOperation:
        raise ValueError(f"not an amount of TON: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.to_integral_value():
        raise ValueError(f"not a payable amount of TON: {value!r}")
    return int(amount)


def format_ton(nano: int) -> str:
    """``1_500_000_000`` → ``"1.5"``; ``2_000_000_000`` → ``"2"``."""
    whole, frac = divmod(abs(nano), NANO_PER_TON)
    sign = "-" if nano < 0 else ""
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}".rstrip("0")
