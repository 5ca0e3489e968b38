"""The one dollar format every view, the report and the dashboard use."""

from __future__ import annotations

import pytest

from codex_router.views.money import usd


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0"),
        (0.0, "$0"),
        (0.0004, "<$0.001"),
        (-0.0004, ">-$0.001"),  # a tiny negative saving must not read as "<$0.001"
        (0.001, "$0.001"),
        (0.0424, "$0.042"),
        (0.25, "$0.250"),
        (-0.5, "-$0.500"),
        (9.9996, "$10.00"),  # rounded first: never "$10.000"
        (12.5, "$12.50"),
        (-1.5, "-$1.500"),
        (99.994, "$99.99"),
        (99.996, "$100"),
        (123.45, "$123"),
        (1234.5, "$1,234"),
        (12_345.6, "$12,346"),
        (-12_345.6, "-$12,346"),
    ],
)
def test_usd(amount: float, text: str) -> None:
    assert usd(amount) == text
