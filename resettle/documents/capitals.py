"""Amounts in capitals (大写), as agreements, receipts and settlement sheets write them."""

from __future__ import annotations

from decimal import Decimal

import cn2an

from resettle.db import money


def amount_in_capitals(amount: Decimal) -> str:
    """A sum of yuan in financial capitals, to the fen: 0.05 → 伍分, 10.00 → 壹拾元整,
    1,000,010.01 → 壹佰万零壹拾元零壹分 (the words after 人民币（大写）). A negative amount is
    an error: who owes whom is said in words, not with a sign."""
    value = money(amount)
    if value < 0:
        raise ValueError(f"no capitals for a negative amount: {value}")
    return cn2an.an2cn(format(value, "f"), "rmb")
