"""In Chromium: a leader opens the estate's wall chart and sees the Gantt with its nodes."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.no_transaction


def test_leader_sees_the_gantt_of_the_demo_estate(live_server, page):
    log_in(page, live_server, "zhao.lingdao")
    page.get_by_role("link", name="挂图作战").click()
    expect(page.get_by_role("heading", name="挂图作战")).to_be_visible()
    page.get_by_role("row", name="东城臻雅苑").get_by_role("link", name="打开挂图").click()
    chart = page.locator("section.gantt svg")
    expect(chart).to_be_visible()
    for node in ("选址", "主体封顶", "竣工验收", "交付"):
        expect(chart).to_contain_text(node)
    expect(chart).to_contain_text("今天")
    expect(chart).to_contain_text(
        "暂定"
    )  # the estate's plan reaches into 2027: no holiday data yet
    box = chart.bounding_box()
    assert box["width"] > 1000 and box["height"] > 150
    expect(page.get_by_role("button", name="打印（A3 PDF）")).to_be_visible()
    expect(page.get_by_role("link", name="编辑")).to_have_count(0)
    screenshot(page, "wall-chart-estate")
    page.get_by_role("button", name="打印（A3 PDF）").click()  # a job makes the A3 PDF
    expect(page.locator("[data-job-field=state]")).to_have_text("已完成")
    download = page.get_by_role("link", name="下载")
    expect(download).to_be_visible()
    response = page.request.get(live_server + download.get_attribute("href"))
    assert response.ok and response.body().startswith(b"%PDF")
