"""In Chromium: an admin makes a caseworker for one project; the caseworker logs in, must
choose an own password, sets up the authenticator app (the office requires a second factor),
then sees only that project's households; the admin disables the account and the caseworker's
next page is the login page (logged out everywhere at once)."""

import re

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from resettle.auth.models import User
from resettle.extensions import db
from resettle.households.models import Household
from resettle.projects.models import ExpropriationProject
from tests.browser.conftest import LIVE_APPS, log_in, screenshot

pytestmark = pytest.mark.no_transaction

INITIAL = "Lantern-Orchard-57"
OWN = "Copper-Meadow-Violin-38"


def _first_project() -> tuple[int, str, str, int, int]:
    """The first project: id, label, code, its households and every project's households."""
    with LIVE_APPS[-1].app_context():
        project = db.session.scalars(
            sa.select(ExpropriationProject).order_by(ExpropriationProject.code)
        ).first()
        count = sa.select(sa.func.count()).select_from(Household)
        found = (
            project.id,
            f"{project.code} {project.name}",
            project.code,
            db.session.scalar(count.where(Household.project_id == project.id)),
            db.session.scalar(count),
        )
        db.session.remove()
    return found


@pytest.fixture
def second_factor_required():
    """The office requires a second factor of every account (production's default)."""
    app = LIVE_APPS[-1]
    app.config["MFA_REQUIRED"] = True
    yield
    app.config["MFA_REQUIRED"] = False


def test_admin_creates_a_caseworker_who_sets_a_password_and_is_disabled(
    live_server, browser, second_factor_required
):
    admin_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    worker_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    admin, worker = admin_context.new_page(), worker_context.new_page()
    for tab in (admin, worker):
        tab.set_default_timeout(10_000)
    project_id, project_label, project_code, in_project, everywhere = _first_project()
    assert 0 < in_project < everywhere

    # the admin creates the account for one project
    log_in(admin, live_server, "admin.xitong")
    admin.get_by_role("link", name="账号管理").click()
    expect(admin.get_by_role("heading", name="账号管理")).to_be_visible()
    admin.get_by_role("link", name="新建账号").click()
    admin.get_by_label("用户名").fill("sun.jingban")
    admin.get_by_label("姓名").fill("孙经办")
    admin.get_by_label("初始密码").fill(INITIAL)
    admin.get_by_label("角色").select_option(label="经办人")
    admin.get_by_label(project_label).check()
    admin.get_by_role("button", name="创建账号").click()
    expect(admin.get_by_role("status")).to_contain_text("账号 sun.jingban 已创建")
    expect(admin.get_by_test_id("account-state")).to_contain_text("须修改密码")
    screenshot(admin, "account-created")
    with LIVE_APPS[-1].app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "sun.jingban"))
        assert user.project_ids == {project_id} and not user.all_projects
        db.session.remove()

    # the caseworker logs in and must choose an own password before anything else
    worker.goto(f"{live_server}/login")
    worker.get_by_label("用户名").fill("sun.jingban")
    worker.get_by_label("密码").fill(INITIAL)
    worker.get_by_role("button", name="登录").click()
    expect(worker.get_by_role("heading", name="修改密码")).to_be_visible()
    worker.goto(f"{live_server}/households/")
    expect(worker.get_by_role("heading", name="修改密码")).to_be_visible()
    worker.get_by_label("当前密码").fill(INITIAL)
    worker.get_by_label("新密码", exact=True).fill(OWN)
    worker.get_by_label("再次输入新密码").fill(OWN)
    worker.get_by_role("button", name="保存").click()
    # the office requires a second factor: the authenticator app is set up before anything else
    expect(worker.get_by_role("heading", name="设置身份验证器")).to_be_visible()
    expect(worker.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    worker.goto(f"{live_server}/households/")
    expect(worker.get_by_role("heading", name="设置身份验证器")).to_be_visible()
    secret = worker.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    worker.get_by_label("应用中的验证码").fill(pyotp.TOTP(secret).now())
    worker.get_by_role("button", name="开启双因素认证").click()
    expect(worker.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    screenshot(worker, "recovery-codes")
    worker.get_by_role("link", name="我已保存，继续").click()
    expect(worker.get_by_role("heading", name="工作台")).to_be_visible()
    expect(worker.locator("header")).to_contain_text("孙经办 · 经办人")

    # the caseworker sees the households of that one project only
    worker.locator("nav").get_by_role("link", name="被征收户").click()
    expect(worker.get_by_test_id("result-count")).to_contain_text(str(in_project))
    expect(worker.locator("select[name=project] option")).to_have_count(2)  # 全部 and this one
    codes = worker.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert codes and set(codes) == {project_code}

    # the admin sees the change and disables the account
    admin.get_by_role("link", name="账号管理").click()
    row = admin.locator('tr[data-username="sun.jingban"]')
    expect(row).not_to_contain_text("须修改密码")
    expect(row).not_to_contain_text("从未登录")
    row.get_by_role("link", name="sun.jingban").click()
    admin.get_by_role("button", name="停用账号").click()
    expect(admin.get_by_role("status")).to_contain_text("账号 sun.jingban 已停用")
    expect(admin.get_by_test_id("account-state")).to_contain_text("已停用")

    # the caseworker's next page is the login page, and logging in again fails
    worker.get_by_role("link", name="被征收户").first.click()
    expect(worker).to_have_url(re.compile(r"/login"))
    worker.get_by_label("用户名").fill("sun.jingban")
    worker.get_by_label("密码").fill(OWN)
    worker.get_by_role("button", name="登录").click()
    expect(worker.get_by_role("alert")).to_be_visible()
    expect(worker).to_have_url(re.compile(r"/login"))
    screenshot(worker, "disabled-account-login")

    # the history of the account reads in Chinese
    admin.get_by_role("link", name="该账号的操作记录").click()
    expect(admin.locator("table.audit")).to_contain_text("停用账号")
    admin_context.close()
    worker_context.close()
