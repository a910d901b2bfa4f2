"""Amounts in capitals (大写) for agreements: the edge amounts an office checks by eye."""

from decimal import Decimal

import pytest

from resettle.documents.capitals import amount_in_capitals


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("10.00", "壹拾元整"),
        ("1005.00", "壹仟零伍元整"),
        ("100000.00", "壹拾万元整"),
        ("1000010.01", "壹佰万零壹拾元零壹分"),
        ("1807655.06", "壹佰捌拾万柒仟陆佰伍拾伍元零陆分"),
        ("100000000.00", "壹亿元整"),
        ("0", "零元整"),
        ("12.345", "壹拾贰元叁角伍分"),  # rounded half up to the fen first
    ],
)
def test_capitals_of_edge_amounts(amount, capitals):
    assert amount_in_capitals(Decimal(amount)) == capitals


def test_a_negative_amount_has_no_capitals():
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("-1.00"))
