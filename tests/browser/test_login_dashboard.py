"""In Chromium: a caseworker logs in, sees the Chinese dashboard with figures, and logs out."""

import re

import pytest
from playwright.sync_api import expect

from resettle.households.models import Household
from tests.browser.conftest import BROWSER_PASSWORD, DEMO_HOUSEHOLDS, live_count, screenshot

pytestmark = pytest.mark.no_transaction


def test_caseworker_logs_in_sees_dashboard_and_logs_out(live_server, page):
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("用户名").fill("wang.jingban")
    page.get_by_label("密码").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    households = live_count(Household)
    assert households >= DEMO_HOUSEHOLDS
    expect(page.get_by_test_id("total-households")).to_have_text(str(households))
    expect(page.locator("header")).to_contain_text("王经办 · 经办人")
    table = page.locator("table.data").first
    expect(table).to_contain_text("东城片区棚户区改造房屋征收项目")
    expect(table).to_contain_text("滨江路拓宽工程房屋征收项目")
    stage_total = sum(
        int(text) for text in page.locator(".tile-value[data-stage]").all_inner_texts()
    )
    assert stage_total == households
    # a caseworker has no audit trail in the navigation
    expect(page.get_by_role("link", name="操作日志")).to_have_count(0)
    screenshot(page, "dashboard-caseworker")

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_wrong_password_shows_the_message(live_server, page):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("wang.jingban")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误，或账户暂时被锁定。")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    screenshot(page, "login-wrong-password")
