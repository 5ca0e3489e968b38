"""One way to show an amount of US dollars, in every view, the report and the dashboard."""

from __future__ import annotations


def usd(amount: float) -> str:
    """Dollars with the decimals the amount needs: $0, <$0.001, $0.042, $12.50, $123, $1,234
    (at most 6 characters up to $9,999: it fits the history table's column).

    A negative amount keeps its sign (a route that cost more than the deep one "saved"
    -$0.500), and a tiny negative one reads >-$0.001 rather than passing for zero.
    """
    if amount == 0:
        return "$0"
    sign, size = ("-", -amount) if amount < 0 else ("", amount)
    if size < 0.001:
        return ">-$0.001" if sign else "<$0.001"
    # compared once rounded, so 9.9996 reads $10.00, not $10.000
    if round(size, 3) < 10:
        return f"{sign}${size:.3f}"
    if round(size, 2) < 100:
        return f"{sign}${size:.2f}"
    return f"{sign}${size:,.0f}"
