"""In Chromium: a supervisor opens the overdue list, filters it by unit, prints it, issues a
supervision order for two late items; the leader then sees the order on the dashboard."""

from __future__ import annotations

import re

import pytest
from flask_babel import gettext
from playwright.sync_api import expect

from tests.browser.conftest import LIVE_APPS, log_in, screenshot
from tests.pdf import pdf_fonts, pdf_text

pytestmark = pytest.mark.no_transaction
UNIT = "拆除施工单位"  # the demo project's demolition is late as of the demo's today


def t(msgid: str, **values: object) -> str:
    """The label as the live app shows it (Chinese once the catalog has it)."""
    with LIVE_APPS[-1].test_request_context():
        return gettext(msgid, **values)


def test_supervisor_prints_the_overdue_list_and_issues_an_order_the_leader_sees(live_server, page):
    log_in(page, live_server, "li.ducha")
    page.get_by_role("link", name=t("Overdue and supervision")).click()
    expect(page.get_by_role("heading", name=t("Overdue list"), level=1)).to_be_visible()
    groups = page.locator("section.overdue-group")
    assert groups.count() > 1  # several units are late in the demo

    page.get_by_label(t("Responsible unit")).select_option(label=UNIT)
    page.get_by_role("button", name=t("Filter")).click()
    expect(groups.first).to_have_attribute("data-unit", UNIT)
    assert {groups.nth(i).get_attribute("data-unit") for i in range(groups.count())} == {UNIT}
    rows = page.locator("table.overdue tbody tr")
    assert rows.count() >= 2
    screenshot(page, "supervision-overdue-filtered")

    list_url = page.url
    page.get_by_role("button", name=t("Print (PDF)")).click()  # a job makes the PDF
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "done")
    screenshot(page, "supervision-overdue-pdf-job")
    download = page.get_by_role("link", name=t("Download"))
    printed = page.request.get(live_server + download.get_attribute("href"))
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    text = pdf_text(printed.body())
    assert f"{UNIT}：" in text and "督查督办逾期清单" in text and "第1页共" in text
    assert any("CJK" in f.name and f.embedded for f in pdf_fonts(printed.body()))
    page.goto(list_url)

    boxes = page.locator('table.overdue input[name="item"]:not([disabled])')
    first_item = rows.first.locator("td").nth(5).inner_text()  # the node or stage
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name=t("Issue a supervision order for the selected items")).click()
    expect(page.get_by_role("heading", name=t("Issue a supervision order"))).to_be_visible()
    expect(page.get_by_label(t("Responsible unit"))).to_have_value(UNIT)
    page.get_by_label(t("Rectification period (working days)")).fill("3")
    page.get_by_label(t("Requirements")).fill("三个工作日内完成拆除并报送影像资料")
    page.get_by_role("button", name=t("Issue the order")).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("东督办〔")
    number = re.search(r"东督办〔\d{4}〕\d+号", heading.inner_text()).group(0)
    expect(
        page.get_by_text(t("Supervision order %(number)s is issued.", number=number))
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text(first_item)
    screenshot(page, "supervision-order")
    order_pdf = page.request.get(
        live_server + page.get_by_role("link", name=t("Print (PDF)")).get_attribute("href")
    )
    assert number in pdf_text(order_pdf.body()) and UNIT in pdf_text(order_pdf.body())

    page.get_by_role("button", name=t("Log out")).click()
    log_in(page, live_server, "zhao.lingdao")
    page.get_by_role("link", name=t("Leader dashboard")).click()
    expect(page.get_by_role("heading", name=t("Supervision dashboard"))).to_be_visible()
    row = page.locator(f'tr[data-unit="{UNIT}"]')
    cells = row.locator("td")
    expect(cells.nth(2)).to_have_text("1")  # orders open
    assert int(cells.nth(1).inner_text()) >= 2  # late items
    expect(page.get_by_test_id("orders-open")).to_have_text("1")
    screenshot(page, "supervision-dashboard")
    # the leader reads but changes nothing: no order form on the order page
    row.get_by_role("link", name="1").click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("button", name=t("Close the order"))).to_have_count(0)
