"""Backups (issue 15): a snapshot taken while others write restores to the same counts, a chain
that verifies and the same archived documents; a damaged or altered file is told; a database
holding work is not replaced unless asked; an older backup is migrated as it is restored."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from resettle.audit.chain import chain_key, verify
from resettle.audit.models import AuditEvent
from resettle.audit.services import acting_as, record_event
from resettle.db import begin_write
from resettle.documents.models import ArchivedDocument
from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.notices.models import NoticeType
from resettle.notices.services import NoticeInput, issue_notice
from resettle.projects.models import ExpropriationProject
from tests.audit import lift_audit_guard
from tests.conftest import make_test_app, migrated_app_for_threads
from tests.dbs import fresh_database
from tests.supervision import TODAY, add_household, add_plan, add_project

pytestmark = pytest.mark.no_transaction


def _seed(app: Any, households: int = 12) -> None:
    """A project with households and two issued notices (archived PDFs)."""
    with app.app_context(), acting_as("seed"):
        project = add_project(db.session, code="BK-1")
        add_plan(
            db.session,
            project=project,
            nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)}],
        )
        made = [
            add_household(db.session, project, stage=Stage.APPRAISED) for _ in range(households)
        ]
        for household in made[:2]:
            issue_notice(
                db.session, household, NoticeType.SIGNING, NoticeInput(), user=None, today=TODAY
            )
        db.session.commit()
        db.session.remove()


def _documents(app: Any) -> dict[int, str]:
    """The SHA-256 of every archived PDF's bytes, by id."""
    with app.app_context():
        rows = db.session.execute(sa.select(ArchivedDocument.id, ArchivedDocument.pdf)).all()
        db.session.remove()
        return {row.id: hashlib.sha256(row.pdf).hexdigest() for row in rows}


def _count(app: Any, model: Any) -> int:
    with app.app_context():
        value = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return int(value)


def _cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_a_backup_taken_while_others_write_restores_exactly(tmp_path):
    source = migrated_app_for_threads("backup_source", tmp_path, 3)
    _seed(source)
    stop = threading.Event()
    written = [0]
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with source.app_context(), acting_as("writer"):
                project = db.session.scalar(sa.select(ExpropriationProject))
                db.session.commit()
                while not stop.is_set():
                    begin_write(db.session)  # as the application's writes do
                    add_household(db.session, project)
                    record_event(db.session, "export", "Household", None, {"n": written[0]})
                    db.session.commit()
                    written[0] += 1
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 5:
            stop.wait(0.02)
        before = written[0]
        backup = tmp_path / "office.backup"
        result = _cli(source, "backup", "create", str(backup))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == []
    assert result.exit_code == 0, result.output
    assert "备份已写入" in result.output

    checked = _cli(source, "backup", "verify", str(backup))
    assert checked.exit_code == 0, checked.output
    assert "备份完好" in checked.output

    target = make_test_app(fresh_database("backup_target", tmp_path))
    restored = _cli(target, "backup", "restore", str(backup))
    assert restored.exit_code == 0, restored.output

    with tarfile.open(backup) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
    # the same rows as the snapshot, which lies inside what the source holds now
    assert _count(target, Household) == manifest["counts"]["households"]
    assert 12 + before <= manifest["counts"]["households"] <= _count(source, Household)
    with target.app_context():
        result = verify(db.session.connection(), chain_key(target.config))
        assert result.ok
        # the restored trail: the snapshot's rows, then the restore itself
        assert result.rows == manifest["counts"]["audit_events"] + 1
        last = db.session.scalar(
            sa.select(AuditEvent).order_by(AuditEvent.chain_seq.desc()).limit(1)
        )
        assert last.action == "backup_restored"
        db.session.remove()
    source_documents = _documents(source)
    assert len(source_documents) == 2
    assert _documents(target) == source_documents
    with source.app_context():
        made = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "backup_created"))
        assert made.changes["sha256"][1] == hashlib.sha256(backup.read_bytes()).hexdigest()
        db.session.remove()
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def test_a_damaged_or_altered_backup_is_told_and_nothing_is_restored(tmp_path):
    source = migrated_app_for_threads("backup_damage", tmp_path, 1)
    _seed(source, households=3)
    backup = tmp_path / "b.backup"
    assert _cli(source, "backup", "create", str(backup)).exit_code == 0

    # one byte of the database part changed
    damaged = tmp_path / "damaged.backup"
    with tarfile.open(backup) as archive:
        part = next(m for m in archive.getmembers() if m.name != "manifest.json")
    data = bytearray(backup.read_bytes())
    data[part.offset_data + part.size // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    result = _cli(source, "backup", "verify", str(damaged))
    assert result.exit_code == 1
    assert "SHA-256" in result.output and "已损坏" in result.output

    # the manifest edited (fewer households claimed)
    altered = tmp_path / "altered.backup"
    with tarfile.open(backup) as original, tarfile.open(altered, "w") as copy:
        for member in original.getmembers():
            content = original.extractfile(member).read()
            if member.name == "manifest.json":
                content = content.replace(b'"households": 3', b'"households": 2')
                member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    result = _cli(source, "backup", "verify", str(altered))
    assert result.exit_code == 1 and "封签" in result.output

    target = make_test_app(fresh_database("backup_damage_target", tmp_path))
    with target.app_context():
        upgrade()
    result = _cli(target, "backup", "restore", str(damaged))
    assert result.exit_code == 1
    assert _count(target, Household) == 0

    # not a backup at all
    stray = tmp_path / "notes.txt"
    stray.write_text("not a backup")
    result = _cli(source, "backup", "verify", str(stray))
    assert result.exit_code == 1 and "不是" in result.output
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def test_a_database_holding_work_is_replaced_only_with_force(tmp_path):
    source = migrated_app_for_threads("backup_force_source", tmp_path, 1)
    _seed(source, households=4)
    backup = tmp_path / "b.backup"
    assert _cli(source, "backup", "create", str(backup)).exit_code == 0

    target = migrated_app_for_threads("backup_force_target", tmp_path, 1)
    _seed(target, households=7)
    result = _cli(target, "backup", "restore", str(backup))
    assert result.exit_code == 1 and "--force" in result.output
    assert _count(target, Household) == 7
    result = _cli(target, "backup", "restore", "--force", str(backup))
    assert result.exit_code == 0, result.output
    assert _count(target, Household) == 4
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def test_an_older_backup_is_migrated_as_it_is_restored(tmp_path, monkeypatch):
    """A backup made before the audit chain existed (schema 0015) comes back chained."""
    source = make_test_app(fresh_database("backup_old_source", tmp_path))
    with source.app_context():
        upgrade(revision="0015")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (occurred_at, actor, action, entity_type, changes)"
                    " VALUES (CURRENT_TIMESTAMP, 'x', 'login', 'User', '{}')"
                )
            )
    backup = tmp_path / "old.backup"
    with monkeypatch.context() as patched:  # (a 0015 database has no chain to audit it in)
        patched.setattr("resettle.backup.services.record_event", lambda *a, **k: None)
        result = _cli(source, "backup", "create", str(backup))
    assert result.exit_code == 0, result.output
    assert "0015" in result.output

    target = make_test_app(fresh_database("backup_old_target", tmp_path))
    result = _cli(target, "backup", "restore", str(backup))
    assert result.exit_code == 0, result.output
    with target.app_context():
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert (
            revision
            == ScriptDirectory.from_config(
                target.extensions["migrate"].migrate.get_config()
            ).get_current_head()
        )
        result = verify(db.session.connection(), chain_key(target.config))
        # the old row, the chaining, the restore
        assert result.ok and result.rows == 3
        db.session.remove()
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def test_a_backup_needs_a_folder_and_a_file_database(tmp_path):
    source = migrated_app_for_threads("backup_folder", tmp_path, 1)
    result = _cli(source, "backup", "create", str(tmp_path / "missing" / "b.backup"))
    assert result.exit_code != 0 and "不存在" in result.output
    with source.app_context():
        db.engine.dispose()


def test_verify_names_an_audit_row_changed_before_the_backup(tmp_path):
    """Without restoring (on PostgreSQL: reading the dump, no server), the check walks the chain
    the backup holds and names a row someone changed in the database before it was made."""
    source = migrated_app_for_threads("backup_tampered", tmp_path, 1)
    _seed(source, households=3)
    with source.app_context():
        with db.engine.begin() as conn:
            lift_audit_guard(conn)
            changed = conn.execute(
                sa.text("SELECT id FROM audit_events WHERE chain_seq = 4")
            ).scalar()
            conn.execute(
                sa.text("UPDATE audit_events SET actor = 'x' WHERE id = :id"), {"id": changed}
            )
    backup = tmp_path / "tampered.backup"
    assert _cli(source, "backup", "create", str(backup)).exit_code == 0
    result = _cli(source, "backup", "verify", str(backup))
    assert result.exit_code == 1
    assert f"审计记录 {changed}（链中第 4 条）" in result.output, result.output
    with source.app_context():
        db.engine.dispose()
