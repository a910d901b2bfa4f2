"""In Chromium: a caseworker records a payment; the household's outstanding amount and the
project's fund plan change by exactly that amount."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from resettle.extensions import db
from resettle.households.models import Household, Stage
from tests.browser.conftest import LIVE_APPS, log_in, screenshot

pytestmark = pytest.mark.no_transaction


def _amount(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def _signed_household() -> tuple[int, int]:
    with LIVE_APPS[-1].app_context():
        row = db.session.execute(
            sa.select(Household.id, Household.project_id)
            .where(Household.stage == Stage.SIGNED)
            .order_by(Household.id)
            .limit(1)
        ).one()
        db.session.remove()
    return row


def test_recording_a_payment_changes_outstanding_and_the_fund_plan(live_server, page):
    household_id, project_id = _signed_household()
    log_in(page, live_server, "wang.jingban")
    this_month = date.today().strftime("%Y-%m")

    page.goto(f"{live_server}/funds/projects/{project_id}")
    paid_cell = page.locator(f'#fund-plan tr[data-month="{this_month}"] td').nth(2)
    paid_before = _amount(paid_cell.inner_text())

    page.goto(f"{live_server}/households/{household_id}")
    outstanding = page.get_by_test_id("money-outstanding")
    before = _amount(outstanding.inner_text())
    page.get_by_label("款项类型").select_option(label="征收补偿款")
    page.get_by_label("金额（元）").fill("12345.67")
    page.get_by_label("凭证号").fill("PZ-BROWSER-FUNDS-1")
    page.get_by_role("button", name="登记支付").click()
    expect(page.get_by_role("status")).to_contain_text("支付已登记")
    assert _amount(page.get_by_test_id("money-outstanding").inner_text()) == before - Decimal(
        "12345.67"
    )
    expect(page.locator("#payments")).to_contain_text("PZ-BROWSER-FUNDS-1")

    page.goto(f"{live_server}/funds/projects/{project_id}")
    paid_after = _amount(
        page.locator(f'#fund-plan tr[data-month="{this_month}"] td').nth(2).inner_text()
    )
    assert paid_after == paid_before + Decimal("12345.67")
    screenshot(page, "fund-plan")
