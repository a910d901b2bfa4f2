"""The complete item catalogue, computed by hand: decoration, fixtures from the version's price
list, business loss both ways, unregistered buildings found lawful, hardship, signing rewards
and the moving bonus in tiers by date, free lines."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from resettle.funds.compensation import (
    Adjustment,
    Facts,
    PriceItem,
    compute,
    format_date_tiers,
    parse_date_tiers,
    total,
)
from tests.funds.test_compensation import TERMS

PRICES = (
    PriceItem("空调移装", "台", D("300.00")),
    PriceItem("电表移装", "块", D("200.00")),
    PriceItem("围墙", "m", D("80.50")),
)
BASE = Facts(
    swap=False,
    legal_area=D("85.32"),
    appraisal_unit_price=D("10000.00"),
    appraisal_value=D("853200.00"),
    entitled_area=None,
    flat_area=None,
    signed_on=date(2025, 7, 5),  # after the window: no bonus unless a tier says so
    vacated_on=None,
    handed_over_on=None,
)


def _lines(facts, terms=TERMS):
    return {line.key: line for line in compute(facts, terms, until=date(2026, 1, 1))}


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


def test_without_the_new_items_the_lines_are_as_before():
    assert set(_lines(BASE)) == {"value", "moving"}


def test_decoration_is_the_appraised_amount():
    line = _lines(replace(BASE, decoration_value=D("35678.50")))["decoration"]
    assert (line.label, line.amount) == ("装饰装修补偿", D("35678.50"))
    assert line.formula == "评估金额 = 35,678.50 元"
    assert "decoration" not in _lines(replace(BASE, decoration_value=D("0")))


def test_fixtures_are_priced_from_the_versions_list_one_line_each():
    facts = replace(
        BASE,
        fixtures=(("空调移装", D("3")), ("围墙", D("12.50")), ("热水器移装", D("1"))),
    )
    lines = _lines(facts, replace(TERMS, price_list=PRICES))
    air = lines["fixture:空调移装"]
    assert (air.label, air.amount) == ("空调移装", D("900.00"))
    assert air.formula == "3 台 × 300.00 元 = 900.00 元"
    wall = lines["fixture:围墙"]
    # 12.5 × 80.50 = 1,006.25
    assert (wall.amount, wall.formula) == (D("1006.25"), "12.5 m × 80.50 元 = 1,006.25 元")
    # counted, but this version's list has no price for it: shown at zero, saying so
    heater = lines["fixture:热水器移装"]
    assert heater.amount == D("0.00")
    assert heater.formula == "热水器移装 不在本版规则的价格表中 = 0.00 元"
    assert "fixture:电表移装" not in lines  # in the list, not counted
    assert total(list(lines.values())) == D("853200.00") + D("1279.80") + D("1906.25")


def test_business_loss_as_a_share_of_the_value_for_non_residential_use_only():
    terms = replace(TERMS, business_loss_method="share", business_loss_percent=D("5.00"))
    line = _lines(replace(BASE, house_use="非住宅"), terms)["business_loss"]
    assert (line.label, line.amount) == ("停产停业损失补偿", D("42660.00"))
    assert line.formula == "853,200.00 元 × 5% = 42,660.00 元"
    # a share of the value computed from the unit price: 85.32 × 10,000 × 2.5% = 21,330.00
    by_price = replace(BASE, house_use="商住", appraisal_value=None)
    share = replace(terms, business_loss_percent=D("2.50"))
    assert _lines(by_price, share)["business_loss"].amount == D("21330.00")
    assert "business_loss" not in _lines(BASE, terms)  # 住宅: none
    assert "business_loss" not in _lines(replace(BASE, house_use="非住宅"))  # no method: none


def test_business_loss_as_months_times_a_rate_on_the_business_area():
    terms = replace(
        TERMS,
        business_loss_method="monthly",
        business_loss_months=6,
        business_loss_per_m2_month=D("20.00"),
    )
    shop = replace(BASE, house_use="商住", business_area=D("40.25"))
    line = _lines(shop, terms)["business_loss"]
    # 40.25 × 20 × 6 = 4,830.00
    assert line.amount == D("4830.00")
    assert line.formula == "40.25 m² × 20.00 元/m²/月 × 6 个月 = 4,830.00 元"
    # no business area recorded: the legal area, 85.32 × 20 × 6 = 10,238.40
    whole = _lines(replace(shop, business_area=None), terms)["business_loss"]
    assert whole.amount == D("10238.40")


def test_unregistered_area_found_lawful_at_the_rule_rate():
    terms = replace(TERMS, lawful_unregistered_per_m2=D("1500.00"))
    line = _lines(replace(BASE, lawful_unregistered_area=D("12.34")), terms)["unregistered_lawful"]
    assert (line.label, line.amount) == ("未经登记建筑认定合法补偿", D("18510.00"))
    assert line.formula == "12.34 m² × 1,500.00 元/m² = 18,510.00 元"
    assert "unregistered_lawful" not in _lines(BASE, terms)


def test_hardship_subsidy_per_qualifying_household():
    terms = replace(TERMS, hardship_subsidy=D("5000.00"))
    line = _lines(replace(BASE, hardship="低保"), terms)["hardship"]
    assert (line.label, line.amount) == ("困难补助", D("5000.00"))
    assert line.formula == "低保，按户定额 = 5,000.00 元"
    assert "hardship" not in _lines(BASE, terms)
    assert "hardship" not in _lines(replace(BASE, hardship="低保"))  # the rule pays none


SIGNING = parse_date_tiers("2025-03-31:30000,2025-04-30:20000")


@pytest.mark.parametrize(
    "signed_on, amount, limit",
    [
        (date(2025, 3, 20), D("30000.00"), "2025-03-31"),
        (date(2025, 3, 31), D("30000.00"), "2025-03-31"),  # on the date: still that tier
        (date(2025, 4, 1), D("20000.00"), "2025-04-30"),
        (date(2025, 4, 30), D("20000.00"), "2025-04-30"),
        (date(2025, 5, 1), None, None),  # after the last tier: nothing (not the old bonus)
    ],
)
def test_signing_reward_tiers_by_date_with_their_boundaries(signed_on, amount, limit):
    lines = _lines(replace(BASE, signed_on=signed_on), replace(TERMS, signing_tiers=SIGNING))
    if amount is None:
        assert "bonus" not in lines
        return
    assert (lines["bonus"].label, lines["bonus"].amount) == ("签约奖励", amount)
    assert lines["bonus"].formula == (
        f"{signed_on.isoformat()} 签约，不晚于 {limit} = {amount:,.2f} 元"
    )


def test_without_tiers_the_single_bonus_inside_the_window_works_as_before():
    line = _lines(replace(BASE, signed_on=date(2025, 5, 10)))["bonus"]
    assert line.amount == D("5000.00")
    assert line.formula == "2025-05-10 签约，在签约期限内 = 5,000.00 元"


def test_moving_bonus_by_the_vacating_date():
    terms = replace(TERMS, moving_bonus_tiers=parse_date_tiers("2025-05-31:10000,2025-06-30:5000"))
    line = _lines(replace(BASE, vacated_on=date(2025, 6, 30)), terms)["moving_bonus"]
    assert (line.label, line.amount) == ("搬迁奖励", D("5000.00"))
    assert line.formula == "2025-06-30 腾空交房，不晚于 2025-06-30 = 5,000.00 元"
    early = _lines(replace(BASE, vacated_on=date(2025, 5, 31)), terms)["moving_bonus"]
    assert early.amount == D("10000.00")
    assert "moving_bonus" not in _lines(replace(BASE, vacated_on=date(2025, 7, 1)), terms)
    assert "moving_bonus" not in _lines(BASE, terms)  # not vacated: not earned


def test_free_lines_pay_or_deduct_with_their_reason():
    facts = replace(
        BASE,
        adjustments=(
            Adjustment("adjustment:1", "院内果树补偿", D("2400.00"), "经征收办会议研究决定"),
            Adjustment("adjustment:2", "其他扣减", D("-1500.00"), "已预领搬迁费"),
        ),
    )
    lines = _lines(facts)
    assert lines["adjustment:1"].label == "院内果树补偿"
    assert lines["adjustment:1"].formula == "经征收办会议研究决定 = 2,400.00 元"
    assert lines["adjustment:2"].amount == D("-1500.00")
    assert lines["adjustment:2"].formula == "已预领搬迁费 = -1,500.00 元"
    assert total(list(lines.values())) == D("853200.00") + D("1279.80") + D("900.00")


def test_date_tiers_read_full_width_punctuation_and_are_kept_in_order():
    tiers = parse_date_tiers("2025-04-30：20000，2025-03-31：30000.5")
    assert tiers == ((date(2025, 3, 31), D("30000.50")), (date(2025, 4, 30), D("20000.00")))
    assert format_date_tiers(tiers) == "2025-03-31:30000.50,2025-04-30:20000.00"
    assert parse_date_tiers("") == () and parse_date_tiers("  ") == ()


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-30:100",  # no such day
        "2025-03-31",  # no amount
        "x:1",
        "2025-03-31:-1",
        "2025-03-31:1.005",
        "2025-03-31:NaN",
        "2025-03-31:1e400",
        "2025-03-31:1,2025-03-31:2",  # the same date twice
        "31/03/2025:100",
    ],
)
def test_bad_date_tiers_are_refused(text):
    with pytest.raises(ValueError):
        parse_date_tiers(text)
