"""Notices (通知书): what each type prints, the archive and reprint, numbers, guards, batches."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
from PIL import Image

from resettle import clock
from resettle.auth.models import Role
from resettle.documents.models import ArchivedDocument, DocumentSequence
from resettle.documents.numbers import new_check_code
from resettle.documents.verification import qr_png, verify_url
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import PaymentKind
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.households.services import record_payment
from resettle.notices import services
from resettle.notices.models import Notice, NoticeType
from resettle.notices.services import (
    BatchInput,
    NoticeInput,
    format_number,
    issue_batch,
    issue_notice,
    notice_pdf,
)
from resettle.sites.models import UnitStatus
from tests.funds import add_rules
from tests.pdf import pdf_fonts, pdf_page_count, pdf_text
from tests.sites import add_site, flat
from tests.supervision import TODAY, add_household, add_plan, add_project, msg

ID_NUMBER = "110105199508080018"
MASKED = "110105********0018"


@pytest.fixture
def project():
    """A project moving into an estate, with plan deadlines for every household stage."""
    site, building = add_site(db.session, floors=2)
    project = add_project(db.session, site_id=site.id)
    add_plan(
        db.session,
        project=project,
        nodes=[
            {"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)},
            {"name": "腾空交房", "stage": Stage.VACATED, "deadline": date(2025, 8, 29)},
        ],
    )
    add_plan(
        db.session,
        site_id=site.id,
        nodes=[
            {
                "name": "交付",
                "stage": Stage.HANDED_OVER,
                "deadline": date(2027, 6, 30),
                "provisional": True,
            }
        ],
    )
    project.test_building = building  # type: ignore[attr-defined]
    return project


def _household(project, stage, mode=CompensationMode.SWAP, **values):
    values.setdefault("head_name", "欧阳娜娜")
    values.setdefault("head_id_number", ID_NUMBER)
    return add_household(db.session, project, stage=stage, mode=mode, **values)


def _allocate(household, building, number="101", complete=True):
    unit = flat(building, number)
    unit.household, unit.status = household, UnitStatus.ALLOCATED
    building.complete = complete
    db.session.flush()
    db.session.refresh(household)
    return unit


def _issue(household, notice_type, selection_at=None, today=TODAY):
    return issue_notice(
        db.session,
        household,
        notice_type,
        NoticeInput(selection_at=selection_at),
        user=None,
        today=today,
    )


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- what each notice says -------------------------------------------------------------------


def test_signing_reminder_names_the_household_deadline_and_masks_the_id(project):
    household = _household(project, Stage.APPRAISED)
    notice = _issue(household, NoticeType.SIGNING)
    assert notice.number == "东征签催〔2025〕1号"
    text = pdf_text(notice_pdf(notice))
    for expected in (
        "签约催告通知书",
        "东征签催〔2025〕1号",
        "欧阳娜娜（身份证号：" + MASKED + "）",
        household.case_number,
        household.house_address,
        project.name,
        project.decision_number,
        "请您于2025年7月15日前",
        "2025年6月18日",  # issued on
        "核验码：" + notice.check_code,
        "东城区房屋征收事务所",
    ):
        assert expected in text, expected
    assert ID_NUMBER not in text and ID_NUMBER not in str(notice.details)


def test_vacating_notice_names_the_vacating_deadline(project):
    household = _household(project, Stage.SIGNED)
    text = pdf_text(notice_pdf(_issue(household, NoticeType.VACATING)))
    assert "腾空交房通知书" in text and "东征腾通〔2025〕1号" in text
    assert "请您于2025年8月29日前搬迁完毕" in text and MASKED in text


def test_selection_notice_shows_the_order_number_and_time(project):
    household = _household(project, Stage.DEMOLISHED, selection_order=17)
    notice = _issue(household, NoticeType.SELECTION, datetime(2025, 7, 2, 9, 30))
    text = pdf_text(notice_pdf(notice))
    assert "选房通知书" in text and "东征选通〔2025〕1号" in text
    assert "第17号" in text and "2025年7月2日9时30分" in text
    assert project.site.name in text and "欧阳娜娜" in text


def test_handover_notice_lists_the_flat_and_marks_a_provisional_deadline(project):
    household = _household(project, Stage.SELECTED, selection_order=3)
    unit = _allocate(household, project.test_building)
    notice = _issue(household, NoticeType.HANDOVER)
    text = pdf_text(notice_pdf(notice))
    assert "交房通知书" in text and "东征交通〔2025〕1号" in text
    assert unit.label in text and f"建筑面积{unit.area:.2f}平方米" in text
    assert "请您于2027年6月30日（暂定）前" in text


def _allowance_rules(project):
    return add_rules(project)


def test_allowance_notice_prints_the_formula_paid_and_due(project):
    _allowance_rules(project)
    household = _household(project, Stage.DEMOLISHED)  # vacated on 1 April 2025
    record_payment(
        db.session,
        household,
        kind=PaymentKind.TEMPORARY_ALLOWANCE,
        amount=Decimal("1023.84"),
        paid_on=date(2025, 5, 1),
        voucher_number="GD-1",
        payee="欧阳娜娜",
        operator=None,
        today=TODAY,
    )
    notice = _issue(household, NoticeType.ALLOWANCE)
    assert notice.number == "东征过发〔2025〕1号"
    text = pdf_text(notice_pdf(notice))
    for expected in (
        "过渡费发放通知书",
        "东征过发〔2025〕1号",
        "欧阳娜娜（身份证号：" + MASKED + "）",
        "已于2025年4月1日腾空交房",
        "截至2025年6月18日，您户过渡期共计3个月",
        "85.32m²×12.00元/m²/月×3个月=3,071.52元",  # the formula line of the funds issue
        "应发合计3,071.52元",
        "已发放1,023.84元",
        "本次应发放2,047.68元",
        "人民币贰仟零肆拾柒元陆角捌分",  # and in capitals
        "核验码：" + notice.check_code,
    ):
        assert expected in text, expected
    assert any("CJK" in f.name and f.embedded for f in pdf_fonts(notice_pdf(notice)))


def test_a_notice_issued_by_someone_browsing_in_english_is_chinese(
    client, login_as, project, today
):
    """What a notice says is kept (its details and the archived PDF) in Chinese, whatever the
    issuer's page language."""
    _allowance_rules(project)
    household = _household(project, Stage.DEMOLISHED)
    login_as("caseworker")
    client.post("/language", data={"lang": "en", "next": "/notices/"})
    response = client.post(
        f"/notices/issue/{household.id}", data={"type": "allowance"}, follow_redirects=True
    )
    assert '<html lang="en">' in response.get_data(as_text=True)
    notice = db.session.scalar(sa.select(Notice))
    line = notice.details["allowance_lines"][0]
    assert line["label"] == "临时安置费（过渡费）"
    assert line["formula"] == "85.32 m² × 12.00 元/m²/月 × 3 个月 = 3,071.52 元"
    text = pdf_text(notice_pdf(notice))
    assert "临时安置费（过渡费）85.32m²×12.00元/m²/月×3个月=3,071.52元" in text
    title = pypdf.PdfReader(io.BytesIO(notice_pdf(notice))).metadata.title
    assert title == f"过渡费发放通知 {notice.number}"


def test_allowance_notice_is_refused_when_nothing_is_due(project):
    _allowance_rules(project)
    money_household = _household(project, Stage.VACATED, mode=CompensationMode.MONEY)
    with pytest.raises(RuleViolation, match="不是产权调换安置"):
        _issue(money_household, NoticeType.ALLOWANCE)
    signed = _household(project, Stage.SIGNED, head_id_number="11010519491231002X")
    with pytest.raises(RuleViolation, match="尚未腾空"):
        _issue(signed, NoticeType.ALLOWANCE)
    paid_up = _household(project, Stage.VACATED, head_id_number="440106199203155675")
    record_payment(
        db.session,
        paid_up,
        kind=PaymentKind.TEMPORARY_ALLOWANCE,
        amount=Decimal("3071.52"),
        paid_on=date(2025, 6, 1),
        voucher_number="GD-2",
        payee="x",
        operator=None,
        today=TODAY,
    )
    with pytest.raises(RuleViolation, match="已领取截至目前应发的全部过渡费"):
        _issue(paid_up, NoticeType.ALLOWANCE)
    assert _count(Notice) == 0 and _count(DocumentSequence) in (0, 1)
    assert db.session.scalar(sa.select(sa.func.max(DocumentSequence.last_number))) in (None, 0)


@pytest.mark.parametrize(
    "notice_type", [NoticeType.SIGNING, NoticeType.VACATING, NoticeType.SELECTION]
)
def test_every_notice_embeds_the_chinese_font_and_a_qr_code(project, notice_type):
    stage = {
        NoticeType.SIGNING: Stage.SURVEYED,
        NoticeType.VACATING: Stage.SIGNED,
        NoticeType.SELECTION: Stage.VACATED,
    }[notice_type]
    household = _household(project, stage, selection_order=2)
    notice = _issue(household, notice_type, datetime(2025, 7, 2, 9, 0))
    data = notice_pdf(notice)
    fonts = pdf_fonts(data)
    cjk = [f for f in fonts if "CJK" in f.name or "WenQuanYi" in f.name]
    assert cjk and all(f.embedded and f.subset for f in cjk), fonts
    assert _images(data) == 1
    xmp = pypdf.PdfReader(io.BytesIO(data)).xmp_metadata.rdf_root.toxml()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp  # archived as PDF/A


def _images(data: bytes) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "n.pdf"
        path.write_bytes(data)
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        ).stdout
    return len(listing.splitlines()) - 2


def test_the_qr_code_encodes_the_verify_address_with_number_and_code(app, project, monkeypatch):
    household = _household(project, Stage.APPRAISED)
    notice = _issue(household, NoticeType.SIGNING)
    url = notice.details["verify_url"]
    assert url.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/public/verify?")
    assert "code=" + notice.check_code in url and "number=%E4%B8%9C" in url
    # The PNG holds exactly the modules of a QR code of that address.
    import qrcode

    expected = qrcode.QRCode(
        border=4, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2
    )
    expected.add_data(url)
    expected.make(fit=True)
    matrix = expected.get_matrix()
    image = Image.open(io.BytesIO(qr_png(url))).convert("1")
    assert image.size == (len(matrix), len(matrix))
    assert all(
        (image.getpixel((x, y)) == 0) == dark
        for y, row in enumerate(matrix)
        for x, dark in enumerate(row)
    )
    # always the public address, also when the caseworker's request came in on an intranet one
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://zhengqian.example.gov.cn/")
    with app.test_request_context("/", base_url="http://10.3.0.12:8000"):
        assert verify_url("东征签催〔2025〕1号", "ABCDEFGH").startswith(
            "https://zhengqian.example.gov.cn/public/verify?number="
        )


def test_a_notice_is_verified_by_number_and_check_code(project):
    notice = _issue(_household(project, Stage.APPRAISED), NoticeType.SIGNING)
    code = notice.check_code
    assert services.verify_notice(db.session, notice.number, code) is notice
    assert services.verify_notice(db.session, notice.number, f" {code[:4]} {code[4:].lower()}")
    assert services.verify_notice(db.session, notice.number, "23456789") is None
    assert services.verify_notice(db.session, "东征签催〔2025〕99号", code) is None


def test_check_codes_avoid_look_alike_characters():
    codes = {new_check_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and not set(c) & set("01OI") for c in codes)


# --- archive and reprint ---------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def test_a_reprint_is_byte_identical_to_the_archived_copy(client, login_as, project, today):
    household = _household(project, Stage.APPRAISED)
    login_as("caseworker")
    issued = client.post(f"/notices/issue/{household.id}", data={"type": "signing"})
    assert issued.status_code == 302
    notice = db.session.scalar(sa.select(Notice))
    archived = db.session.scalar(
        sa.select(ArchivedDocument.pdf).where(ArchivedDocument.id == notice.document_id)
    )
    first = client.get(f"/notices/{notice.id}/pdf")
    second = client.get(f"/notices/{notice.id}/pdf")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/pdf"
    assert first.data == second.data == archived
    assert hashlib.sha256(first.data).hexdigest() == notice.document.sha256
    page = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert notice.number in page and notice.document.sha256 in page and notice.check_code in page
    listing = client.get(f"/notices/issue/{household.id}").get_data(as_text=True)
    assert notice.number in listing  # the household's notices


# --- numbers ---------------------------------------------------------------------------------


def test_numbers_count_per_type_and_restart_each_year(project):
    first = _household(project, Stage.APPRAISED)
    second = _household(project, Stage.SURVEYED, head_id_number="11010519491231002X")
    signed = _household(project, Stage.SIGNED, head_id_number="440106199203155675")
    assert _issue(first, NoticeType.SIGNING).sequence == 1
    assert _issue(second, NoticeType.SIGNING).sequence == 2
    vacating = _issue(signed, NoticeType.VACATING)
    assert vacating.number == "东征腾通〔2025〕1号"
    # a second signing reminder while the first is in force only when confirmed
    with pytest.raises(RuleViolation, match="东征签催〔2025〕1号"):
        _issue(first, NoticeType.SIGNING)
    again = issue_notice(
        db.session, first, NoticeType.SIGNING, NoticeInput(again=True), user=None, today=TODAY
    )
    assert again.number == "东征签催〔2025〕3号"
    next_year = issue_notice(
        db.session,
        first,
        NoticeType.SIGNING,
        NoticeInput(deadline=date(2026, 1, 19), again=True),  # (the July date has passed)
        user=None,
        today=date(2026, 1, 5),
    )
    assert next_year.number == "东征签催〔2026〕1号"
    counters = dict(
        db.session.execute(
            sa.select(DocumentSequence.year, DocumentSequence.last_number).where(
                DocumentSequence.type == NoticeType.SIGNING
            )
        ).all()
    )
    assert counters == {2025: 3, 2026: 1}
    assert format_number(NoticeType.HANDOVER, 2031, 7) == "东征交通〔2031〕7号"


def test_a_failed_rendering_gives_its_number_back(project, monkeypatch):
    household = _household(project, Stage.APPRAISED)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "render_notices", broken)
    with pytest.raises(OSError), db.session.begin_nested():  # the request's transaction
        _issue(household, NoticeType.SIGNING)
    monkeypatch.undo()
    assert _count(Notice) == 0 and _count(ArchivedDocument) == 0
    assert _issue(household, NoticeType.SIGNING).number == "东征签催〔2025〕1号"


# --- guards ----------------------------------------------------------------------------------


def _refused(household, notice_type, message, selection_at=None, **values):
    before = _count(DocumentSequence), _count(Notice)
    with pytest.raises(RuleViolation) as refused:
        _issue(household, notice_type, selection_at)
    assert refused.value.message == msg(message, **values)
    assert (_count(DocumentSequence), _count(Notice)) == before


def test_signing_reminder_only_before_signing(project):
    household = _household(project, Stage.SIGNED)
    _refused(
        household,
        NoticeType.SIGNING,
        "Household %(case)s has signed already: no signing reminder.",
        case=household.case_number,
    )


def test_vacating_notice_only_for_signed_households_not_yet_vacated(project):
    early = _household(project, Stage.APPRAISED)
    _refused(
        early,
        NoticeType.VACATING,
        "Household %(case)s has not signed yet: a vacating notice follows signing.",
        case=early.case_number,
    )
    gone = _household(project, Stage.VACATED, head_id_number="11010519491231002X")
    _refused(
        gone,
        NoticeType.VACATING,
        "Household %(case)s has vacated the house already.",
        case=gone.case_number,
    )


def test_selection_notice_guards(project):
    at = datetime(2025, 7, 2, 9, 0)
    money = _household(project, Stage.DEMOLISHED, mode=CompensationMode.MONEY)
    _refused(
        money,
        NoticeType.SELECTION,
        "Household %(case)s is not compensated with a flat: no selection notice.",
        at,
        case=money.case_number,
    )
    no_order = _household(project, Stage.DEMOLISHED, head_id_number="11010519491231002X")
    _refused(
        no_order,
        NoticeType.SELECTION,
        "Household %(case)s has no selection order number yet: enter it first.",
        at,
        case=no_order.case_number,
    )
    early = _household(
        project, Stage.SIGNED, selection_order=4, head_id_number="440106199203155675"
    )
    _refused(
        early,
        NoticeType.SELECTION,
        "Household %(case)s has not vacated yet: no selection before vacating.",
        at,
        case=early.case_number,
    )
    ready = _household(
        project, Stage.DEMOLISHED, selection_order=5, head_id_number="110108197505054324"
    )
    _refused(ready, NoticeType.SELECTION, "Enter the date and time of the selection.")
    _refused(
        ready,
        NoticeType.SELECTION,
        "The selection time cannot be in the past.",
        datetime(2025, 6, 17, 9, 0),
    )
    done = _household(
        project, Stage.SELECTED, selection_order=6, head_id_number="110102198001011239"
    )
    _refused(
        done,
        NoticeType.SELECTION,
        "Household %(case)s has selected its flat already.",
        at,
        case=done.case_number,
    )


def test_handover_notice_needs_an_allocated_flat_in_a_complete_building(project):
    building = project.test_building
    household = _household(project, Stage.SELECTED, selection_order=8)
    _refused(
        household,
        NoticeType.HANDOVER,
        "No flat is allocated to household %(case)s.",
        case=household.case_number,
    )
    unit = _allocate(household, building, complete=False)
    _refused(
        household,
        NoticeType.HANDOVER,
        "%(flats)s is not complete yet and cannot be handed over.",
        flats=unit.label,
    )
    household.stage = Stage.HANDED_OVER
    household.steps.append(CaseStep(stage=Stage.HANDED_OVER, actual_date=date(2025, 6, 1)))
    building.complete = True
    db.session.flush()
    _refused(
        household,
        NoticeType.HANDOVER,
        "Household %(case)s has received its flat already.",
        case=household.case_number,
    )


def test_a_notice_needs_a_deadline(project):
    no_plan = add_project(db.session)
    household = add_household(db.session, no_plan, stage=Stage.SURVEYED)
    with pytest.raises(RuleViolation) as refused:
        _issue(household, NoticeType.SIGNING)
    assert household.case_number in refused.value.message


# --- batches ---------------------------------------------------------------------------------


def test_a_batch_is_one_pdf_with_a_page_and_a_number_per_household(project):
    households = [
        _household(
            project, Stage.DEMOLISHED, selection_order=order, head_name=name, head_id_number=number
        )
        for order, name, number in (
            (3, "张三", "11010519491231002X"),
            (1, "李四", "110101199003074477"),
            (2, "王五", "44030419850612321X"),
        )
    ]
    document = issue_batch(
        db.session,
        households,
        NoticeType.SELECTION,
        BatchInput(selection_at=datetime(2025, 7, 2, 9, 0), slot_minutes=15),
        user=None,
        today=TODAY,
    )
    assert document.notice_count == 3 and pdf_page_count(document.pdf) == 3
    notices = document.notices
    assert [n.sequence for n in notices] == [1, 2, 3]
    assert [n.first_page for n in notices] == [1, 2, 3]
    # in selection order, each a quarter of an hour after the previous one
    for page, (name, time) in enumerate(
        (("李四", "9时00分"), ("王五", "9时15分"), ("张三", "9时30分")), start=1
    ):
        text = pdf_text(document.pdf, page=page)
        assert name in text and time in text and f"东征选通〔2025〕{page}号" in text
    assert hashlib.sha256(document.pdf).hexdigest() == document.sha256


def test_a_batch_with_one_ineligible_household_issues_nothing(project):
    good = _household(project, Stage.APPRAISED)
    signed = _household(project, Stage.SIGNED, head_id_number="11010519491231002X")
    with pytest.raises(RuleViolation) as refused:
        issue_batch(db.session, [good, signed], NoticeType.SIGNING, user=None, today=TODAY)
    assert signed.case_number in refused.value.message
    assert _count(Notice) == 0 and _count(DocumentSequence) == 0


def test_batch_screen_lists_the_households_at_the_right_stage(client, login_as, project, today):
    ready = _household(project, Stage.APPRAISED)
    _household(project, Stage.SIGNED, head_id_number="11010519491231002X")
    login_as("caseworker")
    page = client.get(f"/notices/batch?project={project.id}&type=signing").get_data(as_text=True)
    assert ready.case_number in page and page.count('name="household"') == 1
    issued = client.post(
        "/notices/batch",
        data={"project": project.id, "type": "signing", "household": [ready.id]},
    )
    assert issued.status_code == 303 and "/jobs/" in issued.headers["Location"]
    document = db.session.scalar(sa.select(ArchivedDocument))
    status = client.get(issued.headers["Location"], headers={"Accept": "application/json"}).json
    assert status["state"] == "done" and (status["done"], status["total"]) == (1, 1)
    assert status["result"].endswith(f"/notices/?document={document.id}")
    assert document.notices[0].number in status["message"]
    assert client.get(f"/notices/documents/{document.id}/pdf").data == document.pdf


def test_a_refused_batch_job_says_which_households_and_issues_nothing(
    client, login_as, project, today
):
    ready = _household(project, Stage.APPRAISED)
    signed = _household(project, Stage.SIGNED, head_id_number="11010519491231002X")
    login_as("caseworker")
    issued = client.post(
        "/notices/batch",
        data={"project": project.id, "type": "signing", "household": [ready.id, signed.id]},
    )
    assert issued.status_code == 303
    page = client.get(issued.headers["Location"]).get_data(as_text=True)
    assert msg("Failed") in page and signed.case_number in page
    assert _count(Notice) == 0 and _count(DocumentSequence) == 0


# --- on screen, roles, fonts -----------------------------------------------------------------


def test_a_name_the_font_cannot_print_is_flagged_to_the_issuer(client, login_as, project, today):
    from resettle.pdf import missing_glyphs

    rare = next(chr(c) for c in range(0x31350, 0x323AF) if missing_glyphs(chr(c)))
    household = _household(project, Stage.APPRAISED, head_name="王" + rare)
    login_as("caseworker")
    response = client.post(
        f"/notices/issue/{household.id}", data={"type": "signing"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert rare in page and household.case_number in page
    assert 'class="flash flash-error"' in page


def test_a_refused_notice_is_explained_on_the_form(client, login_as, project, today):
    household = _household(project, Stage.SIGNED)
    login_as("admin")
    response = client.post(f"/notices/issue/{household.id}", data={"type": "signing"})
    assert response.status_code == 200
    assert msg(
        "Household %(case)s has signed already: no signing reminder.",
        case=household.case_number,
    ) in response.get_data(as_text=True)
    assert _count(Notice) == 0


@pytest.mark.parametrize("role", ["leader", "supervisor"])
def test_leaders_and_supervisors_read_notices_but_do_not_issue(
    client, login_as, project, today, role
):
    household = _household(project, Stage.APPRAISED)
    notice = _issue(household, NoticeType.SIGNING)
    login_as(role)
    assert client.get(f"/notices/{notice.id}").status_code == 200
    assert client.get(f"/notices/{notice.id}/pdf").status_code == 200
    assert client.get("/notices/").status_code == 200
    assert (
        client.post(f"/notices/issue/{household.id}", data={"type": "signing"}).status_code == 403
    )
    assert client.get("/notices/batch").status_code == 403
    assert _count(Notice) == 1


def test_anonymous_visitors_cannot_read_notices(client, project):
    household = _household(project, Stage.APPRAISED)
    notice = _issue(household, NoticeType.SIGNING)
    for path in (f"/notices/{notice.id}/pdf", f"/notices/issue/{household.id}", "/notices/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_cli_issues_a_notice_and_prints_number_and_code(app, project, tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    household = _household(project, Stage.APPRAISED)
    out = tmp_path / "notice.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notices", "issue", "signing", household.case_number, str(out)])
    assert result.exit_code == 0, result.output
    notice = db.session.scalar(sa.select(Notice))
    assert result.output.split() == [notice.number, notice.check_code]
    assert out.read_bytes() == notice.document.pdf
    again = tmp_path / "again.pdf"
    result = runner.invoke(args=["notices", "reprint", notice.number, str(again)])
    assert result.exit_code == 0 and again.read_bytes() == out.read_bytes()
    refused = runner.invoke(args=["notices", "issue", "vacating", household.case_number, str(out)])
    assert refused.exit_code != 0 and household.case_number in refused.output
    unknown = runner.invoke(args=["notices", "issue", "allowance", household.case_number, str(out)])
    assert unknown.exit_code != 0
    nowhere = str(tmp_path / "missing" / "n.pdf")
    for args in (
        ["issue", "signing", household.case_number, nowhere],
        ["reprint", notice.number, nowhere],
    ):
        result = runner.invoke(args=["notices", *args])
        assert result.exit_code == 1 and "不存在" in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 1  # none issued


# --- a notice is right on the day it is issued (issue 16) --------------------------------------

LATE_DAY = date(2026, 12, 2)  # months after the plan's signing (15 July) and vacating dates


def _next_sequence(notice_type):
    row = db.session.get(DocumentSequence, (notice_type, LATE_DAY.year))
    return row.last_number if row else 0


@pytest.mark.parametrize(
    ("notice_type", "stage"),
    [(NoticeType.SIGNING, Stage.APPRAISED), (NoticeType.VACATING, Stage.SIGNED)],
)
def test_a_notice_never_asks_for_a_date_before_its_issue_date(project, notice_type, stage):
    """Issued months after the plan's date, a notice asks for the project's notice period from
    its issue date (10 working days: 2 → 16 December 2026), or the date the caseworker enters;
    an entered date before the issue date is refused and nothing is numbered."""
    household = _household(project, stage)
    before = _next_sequence(notice_type)
    with pytest.raises(RuleViolation, match="2026-12-01") as refused:
        issue_notice(
            db.session,
            household,
            notice_type,
            NoticeInput(deadline=date(2026, 12, 1)),
            user=None,
            today=LATE_DAY,
        )
    assert refused.value.field == "deadline"
    assert _next_sequence(notice_type) == before  # nothing numbered
    notice = _issue(household, notice_type, today=LATE_DAY)
    text = pdf_text(notice_pdf(notice))
    assert "请您于2026年12月16日" in text and "2026年12月2日" in text
    assert "2025年7月15日前" not in text and "2025年8月29日" not in text
    assert date.fromisoformat(notice.details["deadline"]) >= notice.issued_on
    project.notice_workdays = 5
    again = issue_notice(
        db.session,
        household,
        notice_type,
        NoticeInput(again=True),
        user=None,
        today=LATE_DAY,
    )
    assert again.details["deadline"] == "2026-12-09"
    entered = issue_notice(
        db.session,
        household,
        notice_type,
        NoticeInput(deadline=date(2026, 12, 30), again=True),
        user=None,
        today=LATE_DAY,
    )
    assert "请您于2026年12月30日" in pdf_text(notice_pdf(entered))


def test_a_batch_of_notices_issued_after_the_plan_dates_asks_for_dates_ahead(project):
    households = [
        add_household(db.session, project, stage=Stage.SIGNED, mode=CompensationMode.SWAP)
        for _ in range(3)
    ]
    with pytest.raises(RuleViolation, match="2026-11-30"):
        issue_batch(
            db.session,
            households,
            NoticeType.VACATING,
            BatchInput(deadline=date(2026, 11, 30)),
            user=None,
            today=LATE_DAY,
        )
    document = issue_batch(db.session, households, NoticeType.VACATING, user=None, today=LATE_DAY)
    assert {n.details["deadline"] for n in document.notices} == {"2026-12-16"}
    assert pdf_text(document.pdf).count("请您于2026年12月16日前搬迁完毕") == 3
    chosen = issue_batch(
        db.session,
        households,
        NoticeType.VACATING,
        BatchInput(deadline=date(2026, 12, 18), again=True),
        user=None,
        today=LATE_DAY,
    )
    assert {n.details["deadline"] for n in chosen.notices} == {"2026-12-18"}


def test_the_issue_form_says_the_plan_date_has_passed_and_what_the_notice_asks_for(
    client, project, login_as, monkeypatch
):
    monkeypatch.setattr(clock, "today", lambda: LATE_DAY)
    household = _household(project, Stage.SIGNED)
    login_as(Role.CASEWORKER)
    page = client.get(f"/notices/issue/{household.id}").get_data(as_text=True)
    assert "2026-12-16" in page and "10 个工作日" in page
    refused = client.post(
        f"/notices/issue/{household.id}", data={"type": "vacating", "deadline": "2026-11-02"}
    )
    assert refused.status_code == 200 and "2026-11-02" in refused.get_data(as_text=True)
    issued = client.post(f"/notices/issue/{household.id}", data={"type": "vacating"})
    assert issued.status_code == 302
    notice = db.session.scalar(sa.select(Notice).where(Notice.household_id == household.id))
    assert notice.details["deadline"] == "2026-12-16"
