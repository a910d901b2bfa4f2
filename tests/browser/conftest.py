"""A live server on 127.0.0.1 with its own database, and Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from resettle.audit.services import acting_as
from resettle.auth.models import Role
from resettle.auth.services import create_user
from resettle.demo.services import seed_demo
from resettle.extensions import db
from tests.conftest import AuthenticatorApp, enrol_second_factor, make_test_app
from tests.dbs import fresh_database

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_PASSWORD = "Browser-Test-Pass-9"
DEMO_HOUSEHOLDS = 60
#: The authenticator apps of the accounts that have one, by username.
AUTHENTICATOR_APPS: dict[str, AuthenticatorApp] = {}
LIVE_APPS: list = []  # the live server's app, for tests that read its database


def live_count(model: type) -> int:
    """How many rows of `model` the live server's database holds now."""
    import sqlalchemy as sa

    with LIVE_APPS[-1].app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
    return count


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database("browser", tmp_path_factory.mktemp("browser-db"))
    app = make_test_app(url, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True)
    with app.app_context():
        upgrade()
        with acting_as("browser-test"):
            seed_demo(db.session, households=DEMO_HOUSEHOLDS, seed=3, disclosure_pdfs=True)
            create_user(
                db.session,
                "wang.jingban",
                "王经办",
                Role.CASEWORKER,
                BROWSER_PASSWORD,
                must_change=False,
                all_projects=True,
            )
            create_user(
                db.session,
                "zhao.lingdao",
                "赵区长",
                Role.LEADER,
                BROWSER_PASSWORD,
                must_change=False,
                all_projects=True,
            )
            create_user(
                db.session,
                "li.ducha",
                "李督查",
                Role.SUPERVISOR,
                BROWSER_PASSWORD,
                must_change=False,
                all_projects=True,
            )
            admin = create_user(
                db.session,
                "admin.xitong",
                "系统管理员",
                Role.ADMIN,
                BROWSER_PASSWORD,
                must_change=False,
                all_projects=True,
            )
            # an admin's login asks for the authenticator app's code
            AUTHENTICATOR_APPS[admin.username] = enrol_second_factor(admin)
            db.session.commit()
        db.session.remove()
    LIVE_APPS.append(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test`, which installs it with apt"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    # Every page is under the Content-Security-Policy: anything it blocks (an inline script or
    # style, a request elsewhere) is a broken page, and Chromium says so on the console.
    blocked: list[str] = []
    tab.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    context.close()
    assert blocked == [], blocked


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: object, base_url: str, username: str) -> None:
    """Log in through the login form, as a person does."""
    page.goto(f"{base_url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="登录").click()
    if username in AUTHENTICATOR_APPS:
        page.get_by_role("heading", name="登录第二步").wait_for()
        page.get_by_label("验证码").fill(AUTHENTICATOR_APPS[username].code())
        page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="工作台").wait_for()
