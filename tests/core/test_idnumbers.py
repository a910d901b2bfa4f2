"""Resident ID numbers: check digit, birth date, region codes of any year, masking."""

from pathlib import Path

import pytest
import stdnum
from stdnum.cn import ric

from resettle.errors import RuleViolation
from resettle.idnumbers import (
    check_id_number,
    mask_id_number,
    normalise_id_number,
    validate_id_number,
)


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def county_codes() -> list[tuple[str, str]]:
    """Every six-digit region code of python-stdnum's table, with its county text."""
    codes = []
    province = ""
    for line in (Path(stdnum.__file__).parent / "cn/loc.dat").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
        elif "county=" in line:
            part, county = line.split(maxsplit=1)
            codes.append((province + part, county))
    return codes


def test_valid_number_with_lower_case_x_is_normalised():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised():
    assert normalise_id_number(" １１０１０５ 19491231002x ") == "11010519491231002X"


def test_region_listed_without_counties_is_accepted():
    # 嘉峪关市 (620200) has no districts in the table: 620201 is one of its codes
    assert check_id_number("620201199411228522").warning is None


@pytest.mark.parametrize(
    "number",
    # measured refused before: each code's table range starts after the holder's birth year
    ["330106194801010013", "320102196001010017", "440104196201010011", "320811195006151230"],
)
def test_older_residents_under_later_region_codes_are_accepted(number, app):
    with app.test_request_context():
        assert check_id_number(number).number == number
        assert check_id_number(number).warning is None


@pytest.mark.parametrize("year", [1940, 1952, 1965, 1982])
def test_every_region_code_of_the_table_is_accepted_for_older_residents(year, app):
    later = [(c, county) for c, county in county_codes() if county.startswith('county="[')]
    assert len(later) > 1000  # codes with a year range: those python-stdnum refused
    refused = []
    with app.test_request_context():
        for code, _county in county_codes():
            number = with_check_digit(f"{code}{year}0615123")
            try:
                check = check_id_number(number)
            except RuleViolation as exc:
                refused.append((number, exc.message))
                continue
            if check.warning:
                refused.append((number, check.warning))
    assert refused == []


def test_a_code_the_table_never_knew_is_a_warning_not_an_error(app):
    number = with_check_digit("99010119500101001")
    with app.test_request_context():
        check = check_id_number(number)
    assert check.number == number
    assert "990101" in check.warning and "行政区划代码" in check.warning


@pytest.mark.parametrize(
    "number, fragment",
    [
        ("11010519491231002", "18 位"),
        ("110105194912310021", "校验位"),
        (with_check_digit("11010519491331002"), "出生日期"),
        (with_check_digit("11010518700101002"), "出生日期"),  # before any living resident
        (with_check_digit("11010520991231002"), "出生日期"),  # in the future
        ("1101051949123100AX", "17 位数字"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(number, fragment, app):
    with app.test_request_context(), pytest.raises(RuleViolation) as excinfo:
        validate_id_number(number)
    assert fragment in excinfo.value.message


def test_mask_keeps_first_six_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
