"""Hand-worked compensation examples: every figure below was computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from resettle.funds.compensation import Facts, Terms, compute, overrun_blocks, parse_tiers, total

TERMS = Terms(
    moving_per_m2=D("15.00"),
    temporary_per_m2_month=D("12.00"),
    started_month_counts=True,
    signing_bonus=D("5000.00"),
    price_within_entitled=D("3000.00"),
    band_m2=D("10.00"),
    price_first_band=D("5000.00"),
    price_beyond_band=D("12000.00"),
    overrun_tiers=((1, D("2")),),
    transition_months=24,
    signing_start=date(2025, 3, 20),
    signing_end=date(2025, 6, 30),
)


def _lines(facts, terms=TERMS, until=date(2027, 12, 31)):
    with_app = compute(facts, terms, until=until)
    return {line.key: line for line in with_app}


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


def test_swap_with_all_three_price_tiers_and_an_overrun():
    facts = Facts(
        swap=True,
        legal_area=D("85.32"),
        appraisal_unit_price=D("10000.00"),
        appraisal_value=None,
        entitled_area=D("85.32"),
        flat_area=D("100.00"),
        signed_on=date(2025, 5, 10),
        vacated_on=date(2025, 6, 15),
        handed_over_on=date(2027, 9, 20),
    )
    lines = _lines(facts)
    # 85.32 m² × 10,000 = 853,200.00
    assert lines["value"].amount == D("853200.00")
    assert lines["value"].formula == "85.32 m² × 10,000.00 元/m² = 853,200.00 元"
    # moved out and back in: twice 85.32 × 15 = 2,559.60
    assert lines["moving"].amount == D("2559.60")
    assert lines["moving"].formula == "85.32 m² × 15.00 元/m² × 2 次 = 2,559.60 元"
    assert lines["bonus"].amount == D("5000.00")
    # new flat 100 m²: 85.32 within the entitled area, 10 in the band, 4.68 beyond
    assert lines["flat_within"].amount == D("-255960.00")
    assert lines["flat_band"].amount == D("-50000.00")
    assert lines["flat_beyond"].amount == D("-56160.00")
    assert lines["flat_beyond"].formula == "−(4.68 m² × 12,000.00 元/m²) = -56,160.00 元"
    # 2025-06-15 → 2027-09-20: 27 months and 5 days, a started month counts: 28 months;
    # 24 inside the period, 4 past it at ×2
    assert lines["allowance"].amount == D("24572.16")
    assert lines["allowance"].formula == "85.32 m² × 12.00 元/m²/月 × 24 个月 = 24,572.16 元"
    overrun = lines["allowance_overrun_25"]
    assert overrun.amount == D("8190.72")
    assert overrun.formula == "85.32 m² × 12.00 元/m²/月 × 2 × 4 个月 = 8,190.72 元"
    assert total(list(lines.values())) == D("531402.48")


def test_the_issue_example_seven_months():
    facts = Facts(
        True,
        D("85.32"),
        None,
        D("900000.00"),
        D("85.32"),
        None,
        date(2025, 5, 10),
        date(2025, 7, 1),
        None,
    )
    lines = _lines(facts, until=date(2026, 1, 15))  # 6 months 14 days: 7 started months
    assert lines["allowance"].formula == "85.32 m² × 12.00 元/m²/月 × 7 个月 = 7,166.88 元"


def test_money_compensation_outside_the_window_whole_months():
    terms = Terms(**{**TERMS.__dict__, "started_month_counts": False})
    facts = Facts(
        False,
        D("62.50"),
        None,
        D("600000.00"),
        None,
        None,
        date(2025, 7, 5),
        date(2025, 7, 20),
        None,
    )
    lines = _lines(facts, terms)
    assert set(lines) == {"value", "moving"}  # no bonus (signed after 06-30), no allowance
    assert lines["moving"].amount == D("937.50")  # once: 62.5 × 15
    assert total(list(lines.values())) == D("600937.50")


def test_rounding_is_half_up_to_the_fen():
    terms = Terms(**{**TERMS.__dict__, "moving_per_m2": D("0.50")})
    facts = Facts(False, D("10.25"), None, None, None, None, None, None, None)
    # 10.25 × 0.50 = 5.125 → 5.13 (banker's rounding would give 5.12)
    assert _lines(facts, terms)["moving"].amount == D("5.13")


def test_overrun_in_tiers():
    tiers = parse_tiers("1:1.5, 7:2")
    assert tiers == ((1, D("1.5")), (7, D("2")))
    assert overrun_blocks(10, tiers) == [(1, 6, D("1.5")), (7, 10, D("2"))]
    assert overrun_blocks(3, parse_tiers("4:2")) == [(1, 3, D("1"))]
    terms = Terms(**{**TERMS.__dict__, "overrun_tiers": tiers, "transition_months": 2})
    facts = Facts(
        True,
        D("50.00"),
        None,
        D("1.00"),
        D("50.00"),
        None,
        None,
        date(2025, 1, 1),
        date(2026, 1, 1),
    )  # exactly 12 months: 2 in the period, 10 overdue
    lines = _lines(facts, terms)
    assert lines["allowance"].amount == D("1200.00")  # 50 × 12 × 2
    assert lines["allowance_overrun_3"].amount == D("5400.00")  # 50 × 12 × 1.5 × 6
    assert lines["allowance_overrun_9"].amount == D("4800.00")  # 50 × 12 × 2 × 4


@pytest.mark.parametrize(
    "text",
    ["", "0:2", "1:0.5", "x", "1:2,1:3", "1:1e400", "1:Infinity", "1:NaN", "1:101", "601:2"],
)
def test_bad_tiers_are_refused(text):
    with pytest.raises(ValueError):
        parse_tiers(text)
