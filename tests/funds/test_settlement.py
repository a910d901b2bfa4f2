"""The settlement sheet (结算单) of a swap household at handover: entitled against allocated
area, the flat's price in its tiers, every line, what was paid and received, and the balance
in words and capitals; for the household's project only; as a page and a printed PDF."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest

from resettle import clock
from resettle.auth.models import Role
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import PaymentKind
from resettle.funds.settlement import settlement_sheet
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.households.services import record_payment
from resettle.sites.models import UnitStatus
from tests.funds.test_funds import _rule
from tests.pdf import pdf_text
from tests.sites import add_site, flat

AS_OF = date(2025, 8, 1)


@pytest.fixture
def swap_household(make_project, make_household):
    """Signed outside the window (no bonus), entitled to 60 m², given a 120 m² flat."""
    project = make_project()
    _rule(project)
    household = make_household(
        project=project,
        stage=Stage.SIGNED,
        appraisal_value=D("100000"),
        entitled_area=D("60.00"),
        compensation_mode=CompensationMode.SWAP,
    )
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 7, 5)))
    site, building = add_site(db.session, areas=("120.00",))
    project.site_id = site.id  # (an account bounded by the project sees the estate's flats)
    unit = flat(building, "101")
    unit.household, unit.status = household, UnitStatus.ALLOCATED
    db.session.flush()
    db.session.refresh(household)
    return household


def _receive(household, amount, voucher):
    record_payment(
        db.session,
        household,
        kind=PaymentKind.RECEIPT,
        amount=amount,
        paid_on=date(2025, 7, 20),
        voucher_number=voucher,
        payee="",
        operator=None,
        today=AS_OF,
    )


def test_a_larger_flat_than_entitled_is_receivable_and_a_receipt_settles_it(swap_household):
    sheet = settlement_sheet(db.session, swap_household, as_of=AS_OF)
    assert sheet["entitled_area"] == D("60.00") and sheet["flat_area"] == D("120.00")
    assert sheet["area_difference"]["direction"] == "more"
    assert sheet["area_difference"]["m2"] == D("60.00")
    assert [(t["key"], t["m2"], t["price_per_m2"], t["amount"]) for t in sheet["tiers"]] == [
        ("flat_within", D("60.00"), D("3000"), D("180000.00")),
        ("flat_band", D("10.00"), D("5000"), D("50000.00")),
        ("flat_beyond", D("50.00"), D("12000"), D("600000.00")),
    ]
    assert sheet["flat_price"] == D("830000.00")
    # 100,000 house value + 85.32 m² × 15 yuan moving allowance once
    assert [(c["key"], c["amount"]) for c in sheet["compensation"]] == [
        ("value", D("100000.00")),
        ("moving", D("1279.80")),
    ]
    assert sheet["compensation_total"] == D("101279.80")
    assert sheet["net"]["owed_by_household"] and sheet["net"]["amount"] == D("728720.20")
    assert sheet["paid_out"] == D("0.00") and sheet["received"] == D("0.00")
    assert sheet["balance"] == "receivable" and sheet["balance_label"].startswith("应收")
    assert sheet["balance_amount"] == D("728720.20")
    assert sheet["balance_capitals"] == "柒拾贰万捌仟柒佰贰拾元贰角"

    _receive(swap_household, D("728720.20"), "SK-1")
    settled = settlement_sheet(db.session, swap_household, as_of=AS_OF)
    assert settled["balance"] == "settled" and settled["balance_label"] == "已结清"
    assert settled["balance_amount"] == D("0.00") and settled["balance_capitals"] == "零元整"
    assert settled["received"] == D("728720.20")
    assert [(p["voucher_number"], p["incoming"]) for p in settled["payments"]] == [("SK-1", True)]


def test_a_smaller_flat_than_entitled_is_priced_within_the_entitled_area(swap_household):
    swap_household.units[0].area = D("55.00")
    db.session.flush()
    sheet = settlement_sheet(db.session, swap_household, as_of=AS_OF)
    assert sheet["area_difference"]["direction"] == "less"
    assert sheet["area_difference"]["text"] == "少于应安置面积 5.00 m²"
    assert [(t["key"], t["m2"], t["amount"]) for t in sheet["tiers"]] == [
        ("flat_within", D("55.00"), D("165000.00"))
    ]
    # 101,279.80 compensation against 165,000.00 for the flat
    assert sheet["net"]["owed_by_household"] and sheet["net"]["amount"] == D("63720.20")
    assert sheet["balance"] == "receivable" and sheet["balance_amount"] == D("63720.20")


def test_a_cheaper_flat_than_the_compensation_is_payable(swap_household):
    swap_household.units[0].area = D("30.00")
    db.session.flush()
    sheet = settlement_sheet(db.session, swap_household, as_of=AS_OF)
    # 101,279.80 compensation against 30 m² × 3,000.00 = 90,000.00 for the flat
    assert not sheet["net"]["owed_by_household"] and sheet["net"]["amount"] == D("11279.80")
    assert sheet["balance"] == "payable" and sheet["balance_label"].startswith("应付")
    assert sheet["balance_amount"] == D("11279.80")
    assert sheet["balance_capitals"] == "壹万壹仟贰佰柒拾玖元捌角"


def test_no_sheet_for_a_money_household_or_one_without_a_flat(make_project, make_household):
    project = make_project()
    _rule(project)
    money_only = make_household(project=project, compensation_mode=CompensationMode.MONEY)
    with pytest.raises(RuleViolation, match="产权调换"):
        settlement_sheet(db.session, money_only, as_of=AS_OF)
    no_flat = make_household(
        project=project, compensation_mode=CompensationMode.SWAP, entitled_area=D("60")
    )
    with pytest.raises(RuleViolation, match="尚未分配"):
        settlement_sheet(db.session, no_flat, as_of=AS_OF)


def test_the_page_and_the_pdf(client, login_as, swap_household, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: AS_OF)
    login_as(Role.CASEWORKER, projects=[swap_household.project])
    household_page = client.get(f"/households/{swap_household.id}").get_data(as_text=True)
    assert f"/funds/households/{swap_household.id}/settlement" in household_page

    page = client.get(f"/funds/households/{swap_household.id}/settlement")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "728,720.20" in html and "应收" in html and "柒拾贰万捌仟柒佰贰拾元贰角" in html
    assert "830,000.00" in html and "−" not in _between(html, 'id="settlement"', "</section>")

    response = client.get(f"/funds/households/{swap_household.id}/settlement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in (
        "结算单",
        swap_household.case_number,
        "应安置面积60.00m²",
        "安置房面积120.00m²",
        "超出应安置面积60.00m²",
        "830,000.00",
        "101,279.80",
        "应收",
        "728,720.20",
        "人民币（大写）柒拾贰万捌仟柒佰贰拾元贰角",
        "打印日期：2025年8月1日",
    ):
        assert expected in text, expected
    assert "http" not in text and "前" not in text.replace("前往", "")  # no address, no deadline
    assert not re.search(r"[−-][\d,]+\.\d\d", text)  # no bare negative amount


def test_another_projects_household_is_not_found(client, login_as, swap_household, make_project):
    login_as(Role.CASEWORKER, projects=[make_project()])
    assert client.get(f"/funds/households/{swap_household.id}/settlement").status_code == 404
    assert client.get(f"/funds/households/{swap_household.id}/settlement.pdf").status_code == 404


def test_a_money_household_gets_a_page_that_says_why(client, login_as, make_household):
    household = make_household(compensation_mode=CompensationMode.MONEY)
    login_as(Role.CASEWORKER)
    page = client.get(f"/funds/households/{household.id}/settlement")
    assert page.status_code == 200
    assert 'data-testid="no-settlement"' in page.get_data(as_text=True)
    assert client.get(f"/funds/households/{household.id}/settlement.pdf").status_code == 409


def _between(text, start, end):
    return text[text.index(start) :].split(end, 1)[0]
