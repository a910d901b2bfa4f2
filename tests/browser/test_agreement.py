"""In Chromium: a caseworker signs an appraised household by issuing its agreement from the
household page, reads the number in the flash and the agreements table, reprints the PDF; then a
resident on a phone verifies it, typing the number with () and without 号, the code in lowercase."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from resettle.agreements.models import Agreement
from resettle.extensions import db
from resettle.households.models import Household, Stage
from tests.browser.conftest import LIVE_APPS, log_in, screenshot

pytestmark = pytest.mark.no_transaction

NUMBER = re.compile(r"(东征[货换]协)〔(\d{4})〕(\d+)号")


def _appraised_household() -> int:
    """An appraised household with a compensation mode: ready to sign. The last one, so that
    tests picking the first of a stage do not meet it."""
    with LIVE_APPS[-1].app_context():
        household_id = db.session.scalar(
            sa.select(Household.id)
            .where(Household.stage == Stage.APPRAISED, Household.compensation_mode.is_not(None))
            .order_by(Household.id.desc())
            .limit(1)
        )
        db.session.remove()
    assert household_id is not None, "the demo data has no appraised household with a mode"
    return household_id


def _check_code(number: str) -> str:
    with LIVE_APPS[-1].app_context():
        code = db.session.scalar(sa.select(Agreement.check_code).where(Agreement.number == number))
        db.session.remove()
    assert code, number
    return code


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def test_a_caseworker_issues_the_agreement_and_a_resident_verifies_it(live_server, page, phone):
    household_id = _appraised_household()
    log_in(page, live_server, "wang.jingban")
    page.goto(f"{live_server}/households/{household_id}")
    page.get_by_role("button", name="签约：出具协议").click()

    flash = page.get_by_role("status")
    expect(flash).to_contain_text("已签约")
    found = NUMBER.search(flash.inner_text())
    assert found, flash.inner_text()
    number = found.group(0)

    agreements = page.locator("#agreements")
    row = agreements.locator("tr", has_text=number)
    expect(row).to_have_count(1)
    reprint = row.get_by_role("link", name="重印（PDF）")
    href = reprint.get_attribute("href")
    assert href
    response = page.request.get(f"{live_server}{href}" if href.startswith("/") else href)
    assert response.ok
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")
    screenshot(page, "agreement-signed")

    # On a phone keyboard there is no 〔〕: the number with () and without 号, the code lowercase.
    prefix, year, sequence = found.groups()
    phone.goto(f"{live_server}/public/verify")
    phone.get_by_label("文号").fill(f"{prefix}({year}){sequence}")
    phone.get_by_label("核验码").fill(_check_code(number).lower())
    phone.get_by_role("button", name="核验").click()
    expect(phone.get_by_text("真实有效的协议")).to_be_visible()
    expect(phone.locator("body")).to_contain_text(number)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    screenshot(phone, "agreement-verified-phone")
