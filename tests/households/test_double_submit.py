"""A form sent twice at once (a double click, two tabs, two caseworkers) answers each request
with a page, not an error page: the first one saves, the others are told, and nothing is saved
twice; two different payments at the same moment both go through. Real threads, each with its
own client and database connection, on a shared SQLite file or a real PostgreSQL database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from markupsafe import escape

from resettle.auth.models import Role, User
from resettle.db import write_collision
from resettle.extensions import db
from resettle.funds.models import Payment
from resettle.households.models import CaseStep, Household, Stage
from tests.conftest import TEST_PASSWORD, TEST_PASSWORD_HASH, migrated_app_for_threads
from tests.sites import add_household, add_project, msg

SENDS = 3


def _office(app: Flask, stage: Stage = Stage.SURVEYED) -> int:
    """A caseworker and a surveyed, appraised household; the household's id."""
    with app.app_context():
        project = add_project(db.session)
        household = add_household(
            db.session,
            project,
            stage=stage,
            appraisal_unit_price=Decimal("12000.00"),
            appraisal_value=Decimal("1023840.00"),
        )
        db.session.add(
            User(
                username="clerk",
                full_name="经办人",
                role=Role.CASEWORKER,
                password_hash=TEST_PASSWORD_HASH,
                all_projects=True,
            )
        )
        db.session.commit()
        household_id = household.id
        db.session.remove()
    return household_id


def _send_at_once(app: Flask, path: str, forms: list[dict[str, str]]) -> list[tuple[int, str]]:
    """Each form sent by its own logged-in client at the same moment; each answer's status and
    the page a browser shows after following it."""
    login = app.test_client()
    assert (
        login.post("/login", data={"username": "clerk", "password": TEST_PASSWORD}).status_code
        == 302
    )
    cookie = login.get_cookie("session")
    barrier = threading.Barrier(len(forms))
    answers: list[tuple[int, str]] = []

    def send(form: dict[str, str]) -> None:
        tab = app.test_client()
        tab.set_cookie(cookie.key, cookie.value)
        barrier.wait(timeout=30)
        response = tab.post(path, data=form)
        shown = tab.get(response.headers["Location"]) if response.status_code == 302 else response
        answers.append((response.status_code, shown.get_data(as_text=True)))

    threads = [threading.Thread(target=send, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(forms)
    return answers


def _messages(app: Flask, *msgids: str, **values: str) -> list[str]:
    with app.test_request_context():
        return [str(escape(msg(msgid, **values))) for msgid in msgids]


def _success(app: Flask, msgid: str, **values: str) -> str:
    """The green note a saved form leaves on the next page (a whole note, not a part of
    another message)."""
    (text,) = _messages(app, msgid, **values)
    return f'<div class="flash flash-success" role="status">{text}</div>'


TOLD_TWICE = (
    "This was saved by another request at the same moment (the form was sent twice, or "
    "someone else saved first), so nothing was saved twice. Check the page before trying again."
)


def _count(app: Flask, statement: Callable[[], sa.Select]) -> int:
    with app.app_context():
        try:
            return db.session.scalar(statement())
        finally:
            db.session.remove()


@pytest.mark.no_transaction
def test_the_same_payment_sent_three_times_at_once_is_recorded_once(tmp_path):
    app = migrated_app_for_threads("double_payment", tmp_path, SENDS)
    household_id = _office(app)
    payment = {
        "kind": "compensation",
        "amount": "1023840.00",
        "paid_on": "2025-06-10",
        "voucher_number": "PZ-2025-0610-01",
        "payee": "",
    }
    answers = _send_at_once(app, f"/households/{household_id}/payments", [payment] * SENDS)

    # Saved (302), refused by the rule on the form (200) or told after the database refused it
    # (302): never an error page.
    assert {status for status, _page in answers} <= {200, 302}
    recorded = _success(app, "Payment recorded.")
    voucher_taken, told = _messages(
        app,
        "Voucher %(number)s is recorded already.",
        TOLD_TWICE,
        number="PZ-2025-0610-01",
    )
    assert sum(recorded in page for _status, page in answers) == 1
    assert sum(voucher_taken in page or told in page for _s, page in answers) == SENDS - 1
    assert all("PZ-2025-0610-01" in page for _status, page in answers)  # the page to check
    assert (
        _count(
            app,
            lambda: (
                sa.select(sa.func.count())
                .select_from(Payment)
                .where(Payment.household_id == household_id)
            ),
        )
        == 1
    )


@pytest.mark.no_transaction
def test_two_different_payments_on_the_same_day_at_once_are_both_recorded(tmp_path):
    app = migrated_app_for_threads("two_payments", tmp_path, 2)
    household_id = _office(app)
    forms = [
        {
            "kind": kind,
            "amount": amount,
            "paid_on": "2025-06-10",
            "voucher_number": voucher,
            "payee": "",
        }
        for kind, amount, voucher in (
            ("compensation", "1023840.00", "PZ-A"),
            ("moving_allowance", "2559.60", "PZ-B"),
        )
    ]
    answers = _send_at_once(app, f"/households/{household_id}/payments", forms)

    recorded = _success(app, "Payment recorded.")
    assert [status for status, _page in answers] == [302, 302]
    assert all(recorded in page for _status, page in answers)
    amounts = _count(
        app,
        lambda: sa.select(sa.func.sum(Payment.amount)).where(Payment.household_id == household_id),
    )
    assert amounts == Decimal("1026399.60")


@pytest.mark.no_transaction
def test_the_same_step_sent_three_times_at_once_is_recorded_once(tmp_path):
    app = migrated_app_for_threads("double_step", tmp_path, SENDS)
    household_id = _office(app)
    step = {"stage": "appraised", "actual_date": "2025-05-06", "note": "评估报告已送达"}
    answers = _send_at_once(app, f"/households/{household_id}/steps", [step] * SENDS)

    assert {status for status, _page in answers} <= {200, 302}
    with app.test_request_context():
        from resettle.households.services import stage_label

        appraised = stage_label(Stage.APPRAISED)
    recorded = _success(app, "Recorded.")
    already, told = _messages(app, "%(stage)s is recorded already.", TOLD_TWICE, stage=appraised)
    assert sum(recorded in page for _status, page in answers) == 1
    assert sum(already in page or told in page for _status, page in answers) == SENDS - 1
    with app.app_context():
        household = db.session.get(Household, household_id)
        assert household.stage == Stage.APPRAISED
        steps = db.session.scalars(
            sa.select(CaseStep).where(
                CaseStep.household_id == household_id, CaseStep.stage == Stage.APPRAISED
            )
        ).all()
        assert [(s.actual_date, s.note) for s in steps] == [(date(2025, 5, 6), "评估报告已送达")]
        db.session.remove()


def test_only_a_second_copy_counts_as_sent_twice_other_database_errors_stay_errors(
    make_household,
):
    """The handler tells "sent twice" only for what a second copy causes (a unique constraint
    of the schema); a broken rule (a check constraint) stays an error page."""
    household = make_household()
    values = {
        "household_id": household.id,
        "kind": "compensation",
        "paid_on": date(2025, 6, 10),
        "payee": "张三",
        "voucher_number": "PZ-1",
        "amount": Decimal("10.00"),
    }
    db.session.execute(sa.insert(Payment).values(**values))
    refused = {}
    for name, changed in (("copy", {}), ("zero", {"voucher_number": "PZ-2", "amount": 0})):
        with pytest.raises(sa.exc.IntegrityError) as caught:
            with db.session.begin_nested():
                db.session.execute(sa.insert(Payment).values(**{**values, **changed}))
        refused[name] = write_collision(caught.value, db.metadata)
    assert refused == {"copy": "conflict", "zero": None}


@pytest.mark.no_transaction
def test_undo_sent_three_times_at_once_undoes_one_step(tmp_path):
    app = migrated_app_for_threads("double_undo", tmp_path, SENDS)
    household_id = _office(app, stage=Stage.SIGNED)
    with app.app_context():
        db.session.execute(sa.update(User).values(role=Role.SUPERVISOR))
        db.session.commit()
        db.session.remove()
    undo = {"reason": "签约日期录错", "stage": "signed"}
    answers = _send_at_once(app, f"/households/{household_id}/undo", [undo] * SENDS)

    assert {status for status, _page in answers} <= {200, 302}
    changed, told = _messages(
        app,
        "The case has changed since the page was opened (the form was sent twice, or someone "
        "else recorded or undid a step); nothing was undone.",
        TOLD_TWICE,
    )
    assert sum(changed in page or told in page for _status, page in answers) == SENDS - 1
    with app.app_context():
        assert db.session.get(Household, household_id).stage == Stage.APPRAISED
        db.session.remove()


@pytest.mark.no_transaction
def test_a_reversal_sent_three_times_at_once_reverses_the_payment_once(tmp_path):
    app = migrated_app_for_threads("double_reversal", tmp_path, SENDS)
    household_id = _office(app)
    with app.app_context():
        db.session.execute(sa.update(User).values(role=Role.SUPERVISOR))
        db.session.add(
            Payment(
                household_id=household_id,
                kind="compensation",
                amount=Decimal("1000.00"),
                paid_on=date(2025, 6, 10),
                voucher_number="PZ-R",
                payee="住户",
            )
        )
        db.session.commit()
        payment_id = db.session.scalar(sa.select(Payment.id))
        db.session.remove()
    forms = [{"reason": f"重复录入{n}"} for n in range(SENDS)]
    answers = _send_at_once(app, f"/funds/payments/{payment_id}/reverse", forms)

    assert [status for status, _page in answers] == [302] * SENDS
    recorded = _success(app, "Payment %(voucher)s reversed.", voucher="PZ-R")
    already, told = _messages(app, "This payment is reversed already.", TOLD_TWICE)
    assert sum(recorded in page for _status, page in answers) == 1
    assert sum(already in page or told in page for _status, page in answers) == SENDS - 1
