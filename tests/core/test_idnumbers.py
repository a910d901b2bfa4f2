"""Resident ID numbers: check digit, normalisation, masking."""

import pytest

from resettle.errors import RuleViolation
from resettle.idnumbers import mask_id_number, normalise_id_number, validate_id_number


def test_valid_number_with_lower_case_x_is_normalised():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_spaces_are_normalised():
    assert normalise_id_number(" １１０１０５ 19491231002x ") == "11010519491231002X"


def test_region_listed_without_counties_is_accepted():
    # python-stdnum itself raises KeyError on this valid number (嘉峪关市, listed without counties)
    assert validate_id_number("620201199411228522") == "620201199411228522"


@pytest.mark.parametrize(
    "number, fragment",
    [
        ("11010519491231002", "18 位"),
        ("110105194912310021", "校验位"),
        ("110105194913310021", "出生日期"),
        ("1101051949123100AX", "17 位数字"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(number, fragment, app):
    with app.test_request_context(), pytest.raises(RuleViolation) as excinfo:
        validate_id_number(number)
    assert fragment in excinfo.value.message


def test_mask_keeps_first_six_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
