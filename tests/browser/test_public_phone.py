"""On a phone (375×812, JavaScript off): a resident reads a project's progress and a disclosure,
gets the neutral message for a wrong ID suffix, then finds the own case and reads the timeline."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from resettle.extensions import db
from resettle.households.models import CompensationMode, Household, Stage
from tests.browser.conftest import LIVE_APPS, screenshot

pytestmark = pytest.mark.no_transaction
WIDTH = 375


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": WIDTH, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def _resident_case() -> tuple[str, str]:
    """A swap household that has vacated: the richest timeline (and an allowance)."""
    with LIVE_APPS[-1].app_context():
        household = db.session.scalars(
            sa.select(Household)
            .where(
                Household.stage == Stage.VACATED,
                Household.compensation_mode == CompensationMode.SWAP,
            )
            .order_by(Household.id)
        ).first()
        found = household.case_number, household.head_id_number
        db.session.remove()
    return found


def _fits(page, selector: str) -> None:
    """Every matching element lies inside the phone's width (no sideways scrolling)."""
    boxes = page.locator(selector)
    assert boxes.count() > 0, selector
    for index in range(min(boxes.count(), 12)):
        box = boxes.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, (selector, box)


def test_a_resident_on_a_phone_reads_progress_and_finds_the_own_case(live_server, phone):
    case_number, id_number = _resident_case()
    phone.goto(f"{live_server}/public/")
    expect(phone.get_by_role("heading", name="征收项目", level=1)).to_be_visible()
    _fits(phone, ".pub-card")
    phone.locator(".pub-card-link").first.click()
    expect(phone.get_by_test_id("signing-rate")).to_contain_text("%")
    _fits(phone, ".pub-gantt li")
    screenshot(phone, "public-phone-project")
    phone.locator(".pub-list a", has_text="分户补偿情况").first.click()
    expect(phone.locator("h1")).to_contain_text("分户补偿情况")
    _fits(phone, ".pub-rows tbody tr")  # each household is a card, nothing wider than the screen
    screenshot(phone, "public-phone-disclosure")
    # the demo seed rendered the disclosure's PDF: the download is the stored file at once
    pdf_link = phone.get_by_role("link", name="下载（PDF）")
    pdf = phone.request.get(live_server + pdf_link.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    phone.get_by_role("link", name="本户查询").click()
    phone.get_by_label("案卷号").fill(case_number)
    phone.get_by_label("户主身份证号码后六位").fill("000000")
    phone.get_by_role("button", name="查询").click()
    expect(phone.get_by_test_id("lookup-error")).to_have_text(
        "没有与此案卷号和这六位字符相符的案卷。请核对后重试，也可咨询征收指挥部。"
    )
    expect(phone.get_by_label("户主身份证号码后六位")).to_have_value("")  # not echoed
    screenshot(phone, "public-phone-wrong-suffix")

    phone.get_by_label("户主身份证号码后六位").fill(id_number[-6:].lower())
    phone.get_by_role("button", name="查询").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"案卷 {case_number}")
    expect(phone.get_by_test_id("current-stage")).to_have_text("腾空交房")
    timeline = phone.locator(".pub-timeline li")
    expect(timeline.first).to_contain_text("调查登记")
    assert timeline.count() >= 7
    expect(phone.locator(".pub-timeline li.done").last).to_contain_text("腾空交房")
    expect(phone.get_by_test_id("next-step")).to_contain_text("期限")
    expect(phone.get_by_role("heading", name="临时安置费（过渡费）")).to_be_visible()
    body = phone.locator("main").inner_text()
    assert id_number not in body and id_number[-6:] not in body
    _fits(phone, ".pub-timeline li")
    button = phone.get_by_role("link", name="查询其他案卷").bounding_box()
    assert button["height"] >= 44  # a thumb-sized target
    screenshot(phone, "public-phone-own-case")
