"""Stored text is Chinese whatever the page language, and never English by accident."""

import pytest

from resettle.chinese import ChineseCatalogMissing, chinese, in_chinese
from resettle.translate import gettext


def test_stored_text_is_chinese_while_the_page_is_english(app):
    from flask import session

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert gettext("Property swap") == "Property swap"
        assert chinese("Property swap") == "产权调换"
        with in_chinese():
            assert gettext("Moving allowance") == "搬迁费"
        assert gettext("Moving allowance") == "Moving allowance"


@pytest.mark.no_transaction
def test_outside_the_app_stored_text_is_refused_not_written_in_english():
    """No catalog is loaded outside the app: an English message id is never handed back."""
    with pytest.raises(ChineseCatalogMissing):
        chinese("Default expropriation plan")


def test_without_a_loaded_catalog_a_plan_is_refused_rather_than_named_in_english(
    make_project, monkeypatch
):
    """What Flask-Babel gives when no .mo exists (empty translations): the default plan is not
    created with the English message id as its name."""
    import sqlalchemy as sa
    from babel.support import NullTranslations

    from resettle import chinese as module
    from resettle.extensions import db
    from resettle.plans.models import Plan
    from resettle.plans.services import plan_for_project

    monkeypatch.setattr(module, "current_translations", NullTranslations)
    project = make_project()
    with pytest.raises(ChineseCatalogMissing):
        plan_for_project(db.session, project)
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(Plan).where(Plan.name == "Default expropriation plan")) is None
    )
