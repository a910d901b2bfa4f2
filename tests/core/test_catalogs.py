"""The compiled catalog is made when the app starts: a plain clone shows Chinese without `make`."""

import gettext
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from resettle.catalogs import compile_catalog, compile_stale_catalogs

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "resettle/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _translations_without_mo(tmp_path: Path) -> Path:
    """A translations directory as a clone has it: the .po, no .mo."""
    directory = tmp_path / "translations"
    messages = directory / "zh_Hans_CN" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    shutil.copy(PO, messages / "messages.po")
    return directory


# A fresh interpreter: Flask-Babel keeps loaded catalogs for the whole process, so only a new
# process shows what a first start after a clone shows (`flask db upgrade`, `flask demo seed`).
FIRST_START = """
import json, sys
import sqlalchemy as sa
from flask_migrate import upgrade
from resettle import create_app
from resettle.audit.services import acting_as
from resettle.demo.services import seed_demo
from resettle.disclosure.models import Disclosure, DisclosureKind
from resettle.extensions import db
from resettle.plans.models import Plan
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[2],
                  "BABEL_TRANSLATION_DIRECTORIES": sys.argv[1]})
with app.app_context():
    upgrade()
    with acting_as("demo-seed"):
        seed_demo(db.session, households=30, seed=3)
    db.session.commit()
    money = db.session.scalar(sa.select(Disclosure).where(Disclosure.kind == DisclosureKind.COMPENSATION))
    print(json.dumps({
        "page": app.test_client().get("/login").get_data(as_text=True),
        "plans": sorted(set(db.session.scalars(sa.select(Plan.name)))),
        "modes": sorted({row["mode"] for row in money.rows}),
        "lines": sorted({line["label"] for row in money.rows for line in row["lines"]}),
    }))
"""


def test_a_first_start_without_the_compiled_catalog_makes_it_and_data_is_chinese(tmp_path):
    directory = _translations_without_mo(tmp_path)
    mo = directory / "zh_Hans_CN/LC_MESSAGES/messages.mo"
    assert not mo.exists()
    out = subprocess.run(
        [sys.executable, "-c", FIRST_START, str(directory), str(tmp_path / "first.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RESETTLE_CONFIG": ""},
    ).stdout
    seen = json.loads(out.splitlines()[-1])
    assert mo.exists()
    assert "登录" in seen["page"] and "Log in" not in seen["page"]
    assert seen["plans"] == ["安置房项目默认计划", "征收项目默认计划"]
    assert set(seen["modes"]) <= {"货币补偿", "产权调换", "货币补偿与产权调换"}
    assert "被征收房屋价值补偿" in seen["lines"] and "House value compensation" not in seen["lines"]


def test_a_catalog_older_than_its_po_is_compiled_again(tmp_path):
    directory = _translations_without_mo(tmp_path)
    po = directory / "zh_Hans_CN/LC_MESSAGES/messages.po"
    mo = po.with_suffix(".mo")
    assert compile_stale_catalogs(directory) == [mo]
    assert compile_stale_catalogs(directory) == []  # up to date: nothing to do
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "产权调换"', 'msgstr "房屋产权调换"'),
        encoding="utf-8",
    )
    os.utime(mo, (mo.stat().st_atime, po.stat().st_mtime - 60))
    assert compile_stale_catalogs(directory) == [mo]
    with mo.open("rb") as f:
        assert gettext.GNUTranslations(f).gettext("Property swap") == "房屋产权调换"


def test_workers_compiling_at_once_never_leave_a_half_written_catalog(tmp_path):
    """Two gunicorn workers starting together both compile; a reader meanwhile always finds a
    whole catalog, and no temporary file is left behind."""
    directory = _translations_without_mo(tmp_path)
    po = directory / "zh_Hans_CN/LC_MESSAGES/messages.po"
    mo = po.with_suffix(".mo")
    compile_catalog(po)
    writers, rounds = 4, 5
    start = threading.Barrier(writers + 1)
    done = threading.Event()
    errors: list[BaseException] = []
    reads: list[str] = []

    def write() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                compile_catalog(po)
        except BaseException as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)

    def read() -> None:
        start.wait()
        while not done.is_set():
            try:
                with mo.open("rb") as f:
                    reads.append(gettext.GNUTranslations(f).gettext("Property swap"))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    reader = threading.Thread(target=read)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    assert errors == []
    assert reads and set(reads) == {"产权调换"}
    assert sorted(p.name for p in mo.parent.iterdir()) == ["messages.mo", "messages.po"]
