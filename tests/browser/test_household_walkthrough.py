"""In Chromium: a caseworker walks one household from survey to closed through the screens,
and a step tried out of order shows the guard's message and changes nothing."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import VALID_IDS

pytestmark = pytest.mark.no_transaction


def _record(page, stage_label: str) -> None:
    page.get_by_label("要登记的环节").select_option(label=stage_label)
    page.get_by_role("button", name="登记环节").click()
    expect(page.get_by_role("status")).to_contain_text("已登记")
    expect(page.get_by_test_id("current-stage")).to_have_text(stage_label)


def _edit(page, **fields) -> None:
    page.get_by_role("link", name="编辑", exact=True).click()
    for label, value in fields.items():
        box = page.get_by_label(label, exact=True)
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(label=value)
        else:
            box.fill(value)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")


def test_caseworker_walks_a_household_from_survey_to_closed(live_server, page):
    log_in(page, live_server, "wang.jingban")
    page.get_by_role("link", name="被征收户").click()
    page.get_by_role("link", name="登记被征收户").click()
    page.get_by_label("征收项目").select_option(label="ZQ2025-02 滨江路拓宽工程房屋征收项目")
    page.get_by_label("户主", exact=True).fill("欧阳娜娜")
    page.get_by_label("身份证号", exact=True).fill(VALID_IDS[5])
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("房屋坐落").fill("东城区滨江路88号")
    page.get_by_label("合法建筑面积（㎡）").fill("85.32")
    page.get_by_label("成员 1 姓名").fill("欧阳明")
    page.get_by_label("成员 1 关系").select_option("配偶")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已登记被征收户")
    expect(page.get_by_test_id("current-stage")).to_have_text("调查登记")

    # out of order: vacating before appraisal is refused with the guard's message
    page.get_by_label("要登记的环节").select_option(label="腾空交房")
    page.get_by_role("button", name="登记环节").click()
    expect(page.get_by_text("还不能登记“腾空交房”：须先完成“评估”")).to_be_visible()
    expect(page.get_by_test_id("current-stage")).to_have_text("调查登记")
    screenshot(page, "household-guard-message")

    _edit(page, **{"评估单价（元/㎡）": "10000", "评估价值（元）": "853200"})
    _record(page, "评估")
    _edit(page, **{"补偿方式": "产权调换", "应安置面积（㎡）": "85.32", "选房顺序号": "900"})
    _record(page, "签约")

    # compensate first, move later
    page.get_by_label("要登记的环节").select_option(label="腾空交房")
    page.get_by_role("button", name="登记环节").click()
    expect(page.get_by_text("先补偿、后搬迁")).to_be_visible()
    page.get_by_label("款项类型").select_option(label="征收补偿款")
    page.get_by_label("金额（元）").fill("500000.00")
    page.get_by_label("凭证号").fill("PZ-BROWSER-001")
    page.get_by_role("button", name="登记支付").click()
    expect(page.get_by_role("status")).to_contain_text("支付已登记")
    # a part is not compensation in full: the rest of what is due before moving (for a swap,
    # net of the entitled area's price) must be paid first
    page.get_by_label("要登记的环节").select_option(label="腾空交房")
    page.get_by_role("button", name="登记环节").click()
    refusal = page.get_by_text("还需支付")
    expect(refusal).to_be_visible()
    left = re.search(r"还需支付 ([\d,]+\.\d\d) 元", refusal.inner_text()).group(1)
    expect(page.get_by_test_id("current-stage")).to_have_text("签约")
    page.get_by_label("款项类型").select_option(label="搬迁费")
    page.get_by_label("金额（元）").fill(left.replace(",", ""))
    page.get_by_label("凭证号").fill("PZ-BROWSER-002")
    page.get_by_role("button", name="登记支付").click()
    expect(page.get_by_role("status")).to_contain_text("支付已登记")
    _record(page, "腾空交房")
    expect(page.get_by_text("过渡中")).to_be_visible()
    _record(page, "拆除")

    # selection: a flat in a completed building, in selection order
    page.get_by_role("link", name="按选房顺序选房").click()
    expect(page.get_by_test_id("selection-order")).to_have_text("900")
    row = page.locator("#available-flats tbody tr").filter(has_text="已竣工").first
    row.get_by_role("radio").check()
    page.get_by_role("button", name="确认选定该房源").click()
    expect(page.get_by_test_id("current-stage")).to_have_text("选房")
    expect(page.get_by_role("heading", name="安置房源")).to_be_visible()

    _record(page, "交付")
    _record(page, "结算办证")
    _record(page, "结案")
    expect(page.get_by_text("该案卷已结案。")).to_be_visible()
    screenshot(page, "household-closed")
