"""Backups: one file holding a consistent snapshot of the database and what it archives.

A backup is a tar file of three members, the manifest first:
- `manifest.json`: format, versions (schema revision, database, tools), row counts per table,
  the audit chain's end, the archived documents (table, id, SHA-256) and the SHA-256 and size of
  every other member; sealed with an HMAC under the audit chain's key, so a changed manifest
  is told from a damaged file.
- the database: SQLite's `VACUUM INTO` copy (a consistent read while others write), gzipped, or
  PostgreSQL's `pg_dump -Fc` taken inside a REPEATABLE READ transaction whose exported snapshot
  the counts, the chain's end and the document list are read in too: all of it is one moment.
- nothing else yet: archived documents (notice PDFs) are rows of the database, and the manifest
  lists them with their SHA-256 so a restore proves every one came back byte for byte.

`restore_backup` loads it into the configured database (empty, unless forced), checks the counts
before migrating it to the current schema, then the audit chain up to the manifest's end and
every document's SHA-256. Backups and restores are audit events.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import io
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from resettle.audit.chain import HEAD_ID, audit_chain, chain_key, verify
from resettle.audit.services import record_event
from resettle.backup.pgdump import read_dump
from resettle.db import utcnow
from resettle.dbroles import app_role, grant_app_role, migration_database_url
from resettle.extensions import db
from resettle.translate import gettext as _

FORMAT = "resettle-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_PART = "database.sqlite3.gz"
POSTGRES_PART = "database.pgdump"
# Archived documents kept in the database: (table, id column, bytes column, SHA-256 column).
DOCUMENTS = (
    ("notice_documents", "id", "pdf", "sha256"),
    ("disclosure_pdfs", "disclosure_id", "pdf", "sha256"),
)
# Rows in any of these mean a database holds an office's work: a restore will not replace it
# unless told to (a freshly migrated database has none; its audit trail holds the migrations).
WORK_TABLES = ("users", "expropriation_projects", "households")
_CHUNK = 1 << 20

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup that cannot be made, checked or restored; the message says why, translated."""


@dataclass
class Outcome:
    """What a backup, a check or a restore did: the manifest and the lines to show."""

    manifest: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    path: Path | None = None
    size: int = 0
    sha256: str = ""


def _quiet(message: str) -> None:
    return None


# ----------------------------------------------------------------------------------- helpers
def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _seal(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "hmac"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(chain_key(current_app.config), text.encode(), hashlib.sha256).hexdigest()


def _backend(engine: sa.Engine) -> str:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def _sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return Path(database)


def _libpq(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore arguments and environment for `url` (the password in the environment,
    never on the command line where `ps` shows it)."""
    args = ["--no-password", "--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, name in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if key in url.query:
            env[name] = str(url.query[key])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s is not installed: install PostgreSQL's client programs "
                "(apt-get install postgresql-client).",
                tool=name,
            )
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(
            _(
                "%(tool)s failed: %(error)s",
                tool=Path(command[0]).name,
                error=(done.stderr or done.stdout).strip()[-2000:],
            )
        )
    return done.stdout


def _tool_version(name: str) -> str:
    return _run([_tool(name), "--version"], dict(os.environ)).strip()


# --------------------------------------------------------------------- reading a snapshot
def _counts(connection: sa.Connection) -> dict[str, int]:
    """Rows per table, every table of the database (the migrations' own table included)."""
    names = sorted(sa.inspect(connection).get_table_names())
    return {
        name: int(
            connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()
        )
        for name in names
    }


def _chain_end(connection: sa.Connection, counts: dict[str, int]) -> dict[str, Any]:
    """Where the audit chain ends (nowhere in a database from before the chain)."""
    if "audit_chain" not in counts:
        return {"last_seq": 0, "last_hmac": None}
    head = connection.execute(
        sa.select(audit_chain.c.last_seq, audit_chain.c.last_hmac).where(
            audit_chain.c.id == HEAD_ID
        )
    ).one_or_none()
    if head is None:
        return {"last_seq": 0, "last_hmac": None}
    return {"last_seq": int(head.last_seq), "last_hmac": head.last_hmac}


def _documents(connection: sa.Connection) -> list[dict[str, Any]]:
    """Every archived document: where it is, its recorded SHA-256 and that of its bytes."""
    out: list[dict[str, Any]] = []
    postgres = connection.dialect.name == "postgresql"
    tables = set(sa.inspect(connection).get_table_names())
    for table, id_column, bytes_column, sha_column in DOCUMENTS:
        if table not in tables:
            continue
        t = sa.table(table, sa.column(id_column), sa.column(bytes_column), sa.column(sha_column))
        if postgres:  # hashed in the server: the bytes need not cross the wire
            actual = sa.func.encode(sa.func.sha256(t.c[bytes_column]), "hex")
            rows = connection.execute(
                sa.select(t.c[id_column], t.c[sha_column], actual).order_by(t.c[id_column])
            )
            for row_id, recorded, computed in rows:
                out.append({"table": table, "id": row_id, "sha256": recorded, "actual": computed})
            continue
        last = None
        while True:
            query = sa.select(t.c[id_column], t.c[sha_column], t.c[bytes_column])
            if last is not None:
                query = query.where(t.c[id_column] > last)
            rows = connection.execute(query.order_by(t.c[id_column]).limit(200)).all()
            if not rows:
                break
            for row_id, recorded, content in rows:
                computed = hashlib.sha256(content or b"").hexdigest()
                out.append({"table": table, "id": row_id, "sha256": recorded, "actual": computed})
            last = rows[-1][0]
    return out


def _revision(counts: dict[str, int], connection: sa.Connection) -> str | None:
    if "alembic_version" not in counts:
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _describe(connection: sa.Connection) -> dict[str, Any]:
    counts = _counts(connection)
    documents = _documents(connection)
    return {
        "schema_revision": _revision(counts, connection),
        "counts": counts,
        "audit_chain": _chain_end(connection, counts),
        "documents": [
            {"table": d["table"], "id": d["id"], "sha256": d["sha256"]} for d in documents
        ],
        "damaged_documents": [d for d in documents if d["sha256"] != d["actual"]],
    }


# --------------------------------------------------------------------------------- create
@contextlib.contextmanager
def _workspace(near: Path) -> Iterator[Path]:
    """A scratch folder beside `near` (same file system: the result is renamed into place)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{near.name}.", dir=near.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _gzip(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=1) as packed:
        shutil.copyfileobj(raw, packed, _CHUNK)


def _snapshot_sqlite(engine: sa.Engine, work: Path, progress: Progress) -> tuple[Path, dict]:
    source = _sqlite_path(engine)
    copy = work / "snapshot.sqlite3"
    progress(_("Copying the database (VACUUM INTO) …"))
    raw = sqlite3.connect(source)  # VACUUM runs outside a transaction: not through the pool
    try:
        raw.execute("PRAGMA busy_timeout=10000")
        raw.execute("VACUUM INTO ?", (str(copy),))
    finally:
        raw.close()
    snapshot = sa.create_engine(f"sqlite:///{copy}")
    try:
        with snapshot.connect() as connection:
            progress(_("Counting rows and checking archived documents …"))
            description = _describe(connection)
            description["database"] = {
                "backend": "sqlite",
                "version": connection.exec_driver_sql("select sqlite_version()").scalar(),
                "source": source.name,
            }
    finally:
        snapshot.dispose()
    progress(_("Compressing the database …"))
    part = work / SQLITE_PART
    _gzip(copy, part)
    copy.unlink()
    return part, description


def _snapshot_postgres(engine: sa.Engine, work: Path, progress: Progress) -> tuple[Path, dict]:
    pg_dump = _tool("pg_dump")
    part = work / POSTGRES_PART
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            progress(_("Dumping the database (pg_dump) …"))
            args, env = _libpq(engine.url)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file", str(part), *args],
                env,
            )
            progress(_("Counting rows and checking archived documents …"))
            description = _describe(connection)
            description["database"] = {
                "backend": "postgresql",
                "version": connection.exec_driver_sql("SHOW server_version").scalar(),
                "pg_dump": _tool_version("pg_dump"),
            }
    return part, description


def create_backup(path: Path, *, progress: Progress = _quiet) -> Outcome:
    """Write a backup of the configured database to `path` while the application keeps serving;
    audited (the event is flushed: the caller commits). The file appears only when complete
    (written beside it, then renamed)."""
    path = path.resolve()
    if not path.parent.is_dir():
        raise BackupError(_("There is no folder %(folder)s.", folder=path.parent))
    engine = db.engine
    started = utcnow()
    with _workspace(path) as work:
        if _backend(engine) == "postgresql":
            part, description = _snapshot_postgres(engine, work, progress)
        else:
            part, description = _snapshot_sqlite(engine, work, progress)
        progress(_("Writing the backup file …"))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": started.isoformat(),
            "host": socket.gethostname(),
            "python": platform.python_version(),
            "sqlalchemy": sa.__version__,
            **description,
            "parts": [
                {"name": part.name, "size": part.stat().st_size, "sha256": _sha256_file(part)}
            ],
        }
        manifest["hmac"] = _seal(manifest)
        partial = work / "backup.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            _add_bytes(
                archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            )
            archive.add(part, arcname=part.name)
        partial.chmod(0o600)  # personal data: for its owner only
        os.replace(partial, path)
    outcome = Outcome(manifest, path=path, size=path.stat().st_size, sha256=_sha256_file(path))
    record_event(
        db.session,
        "backup_created",
        "Backup",
        None,
        {
            "file": [None, str(path)],
            "size": [None, outcome.size],
            "sha256": [None, outcome.sha256],
            "households": [None, manifest["counts"].get("households", 0)],
            "audit_last_seq": [None, manifest["audit_chain"]["last_seq"]],
        },
    )
    db.session.flush()
    outcome.lines = _summary(manifest)
    if manifest["damaged_documents"]:
        outcome.lines.append(_damaged(manifest["damaged_documents"]))
    return outcome


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(content))


def _summary(manifest: dict[str, Any]) -> list[str]:
    counts = manifest["counts"]
    return [
        _(
            "%(households)s households, %(audit)s audit rows (chain to position %(seq)s), "
            "%(documents)s archived documents, %(tables)s tables; schema %(revision)s.",
            households=counts.get("households", 0),
            audit=counts.get("audit_events", 0),
            seq=manifest["audit_chain"]["last_seq"],
            documents=len(manifest["documents"]),
            tables=len(counts),
            revision=manifest["schema_revision"],
        )
    ]


def _damaged(damaged: list[dict[str, Any]]) -> str:
    where = ", ".join(f"{d['table']} {d['id']}" for d in damaged[:10])
    return _(
        "Warning: %(count)s archived documents do not match their recorded SHA-256 in the "
        "database itself (%(where)s): they were damaged before this backup.",
        count=len(damaged),
        where=where,
    )


# ---------------------------------------------------------------------------------- check
@dataclass
class _Opened:
    manifest: dict[str, Any]
    part: Path


def _open(path: Path, work: Path, progress: Progress) -> _Opened:
    """Unpack the backup at `path` into `work`, checking the manifest's seal and every part's
    size and SHA-256."""
    if not path.is_file():
        raise BackupError(_("There is no file %(path)s.", path=path))
    try:
        archive = tarfile.open(path, "r:")
    except (tarfile.TarError, OSError):
        raise BackupError(_("%(path)s is not a resettle backup.", path=path)) from None
    with archive:
        try:
            member = archive.getmember(MANIFEST)
            manifest = json.loads(_read_member(archive, member))
        except (KeyError, ValueError, tarfile.TarError):
            raise BackupError(_("%(path)s is not a resettle backup.", path=path)) from None
        if manifest.get("format") != FORMAT:
            raise BackupError(_("%(path)s is not a resettle backup.", path=path))
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise BackupError(
                _("This backup was made by a newer version of resettle: update it first.")
            )
        if not hmac.compare_digest(str(manifest.get("hmac", "")), _seal(manifest)):
            raise BackupError(
                _(
                    "The backup's manifest does not match its seal: it was changed, or the backup "
                    "was made with another AUDIT_CHAIN_KEY (or SECRET_KEY)."
                )
            )
        parts = manifest["parts"]
        if len(parts) != 1:
            raise BackupError(_("%(path)s is not a resettle backup.", path=path))
        expected = parts[0]
        progress(_("Checking the database part (SHA-256) …"))
        try:
            member = archive.getmember(expected["name"])
        except KeyError:
            raise BackupError(
                _("The backup lacks its part %(name)s: it is incomplete.", name=expected["name"])
            ) from None
        target = work / Path(expected["name"]).name
        digest = hashlib.sha256()
        source = archive.extractfile(member)
        if source is None:
            raise BackupError(_("%(path)s is not a resettle backup.", path=path))
        size = _copy_hashing(source, target, digest)
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise BackupError(
            _(
                "The part %(name)s does not match its SHA-256 in the manifest: the file is "
                "damaged.",
                name=expected["name"],
            )
        )
    return _Opened(manifest, target)


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    if handle is None or member.size > 64 * 1024 * 1024:
        raise ValueError(member.name)
    return handle.read()


def _copy_hashing(source: IO[bytes], target: Path, digest: Any) -> int:
    size = 0
    with target.open("wb") as out:
        while block := source.read(_CHUNK):
            digest.update(block)
            out.write(block)
            size += len(block)
    return size


def _gunzip(part: Path, target: Path) -> None:
    try:
        with gzip.open(part, "rb") as packed, target.open("wb") as raw:
            shutil.copyfileobj(packed, raw, _CHUNK)
    except (OSError, EOFError):
        raise BackupError(_("The database part of the backup is damaged.")) from None


def _check_loaded(connection: sa.Connection, manifest: dict[str, Any]) -> list[str]:
    """Counts as in the manifest, and every archived document byte for byte."""
    return [_check_counts(_counts(connection), manifest), _check_documents(connection, manifest)]


def _check_counts(counts: dict[str, int], manifest: dict[str, Any]) -> str:
    differ = {
        name: (manifest["counts"].get(name), counts.get(name))
        for name in set(counts) | set(manifest["counts"])
        if counts.get(name) != manifest["counts"].get(name)
    }
    if differ:
        detail = ", ".join(f"{n}: {a} → {b}" for n, (a, b) in sorted(differ.items())[:10])
        raise BackupError(
            _("Row counts differ from the backup's manifest: %(detail)s.", detail=detail)
        )
    return _("Row counts of all %(tables)s tables match the manifest.", tables=len(counts))


def _check_documents(connection: sa.Connection, manifest: dict[str, Any]) -> str:
    documents = _documents(connection)
    listed = {(d["table"], d["id"]): d["sha256"] for d in manifest["documents"]}
    found = {(d["table"], d["id"]): d["actual"] for d in documents}
    damaged_before = {(d["table"], d["id"]) for d in manifest.get("damaged_documents", [])}
    wrong = [k for k, sha in listed.items() if found.get(k) != sha and k not in damaged_before]
    if wrong or len(found) != len(listed):
        where = ", ".join(f"{t} {i}" for t, i in wrong[:10])
        raise BackupError(
            _("Archived documents differ from the backup's manifest: %(where)s.", where=where)
        )
    return _(
        "All %(count)s archived documents match their SHA-256.",
        count=len(listed) - len(damaged_before),
    )


def _check_chain(connection: sa.Connection, manifest: dict[str, Any], progress: Progress) -> str:
    """The chain verifies from its first row, and passes through the manifest's end."""
    from resettle.audit.chain import explain

    end = manifest["audit_chain"]
    progress(_("Verifying the audit chain …"))
    result = verify(connection, chain_key(current_app.config))
    if not result.ok:
        raise BackupError(explain(result))
    if end["last_seq"]:
        row = connection.execute(
            sa.text("SELECT chain_hmac FROM audit_events WHERE chain_seq = :seq"),
            {"seq": end["last_seq"]},
        ).scalar()
        if row != end["last_hmac"]:
            raise BackupError(
                _("The audit chain does not pass through the end the manifest recorded.")
            )
    return explain(result)


def verify_backup(path: Path, *, progress: Progress = _quiet) -> Outcome:
    """Check a backup without restoring it, on any machine with the key: the seal, the SHA-256
    of every part, the database's row counts, every archived document and the audit chain
    (a SQLite copy is opened and checked for integrity; a PostgreSQL dump is read through
    pg_restore's COPY text, no server needed)."""
    path = path.resolve()
    with _workspace(path) as work:
        opened = _open(path, work, progress)
        manifest = opened.manifest
        lines = [_("The manifest's seal and the SHA-256 of every part match.")]
        if manifest["database"]["backend"] == "sqlite":
            database = work / "check.sqlite3"
            _gunzip(opened.part, database)
            engine = sa.create_engine(f"sqlite:///{database}")
            try:
                with engine.connect() as connection:
                    state = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
                    if state != "ok":
                        raise BackupError(
                            _("The database in the backup is damaged: %(state)s", state=state)
                        )
                    lines += _check_loaded(connection, manifest)
                    lines.append(_check_chain(connection, manifest, progress))
            finally:
                engine.dispose()
        else:
            progress(_("Reading the dump (pg_restore) …"))
            try:
                counts, engine = read_dump(
                    _tool("pg_restore"), opened.part, work / "check.sqlite3", DOCUMENTS
                )
            except (RuntimeError, ValueError, KeyError) as error:
                raise BackupError(
                    _("The database in the backup is damaged: %(state)s", state=error)
                ) from None
            try:
                lines.append(_check_counts(counts, manifest))
                with engine.connect() as connection:
                    lines.append(_check_documents(connection, manifest))
                    lines.append(_check_chain(connection, manifest, progress))
            finally:
                engine.dispose()
    return Outcome(manifest, lines=_summary(manifest) + lines, path=path)


# -------------------------------------------------------------------------------- restore
def _holds_work(connection: sa.Connection) -> bool:
    tables = set(sa.inspect(connection).get_table_names())
    for name in WORK_TABLES:
        if (
            name in tables
            and connection.execute(
                sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)
            ).first()
        ):
            return True
    return False


def _migration_url() -> sa.URL:
    """Where the owner of the tables connects: MIGRATION_DATABASE_URL, else the app's URL."""
    url = migration_database_url(current_app.config)
    return sa.make_url(url) if url else db.engine.url


def _restore_sqlite(opened: _Opened, force: bool, progress: Progress) -> None:
    engine = db.engine
    target = _sqlite_path(engine)
    if target.exists():
        with engine.connect() as connection:
            if _holds_work(connection) and not force:
                raise _not_empty()
    engine.dispose()
    progress(_("Unpacking the database …"))
    fresh = target.with_name(f".{target.name}.restoring")
    _gunzip(opened.part, fresh)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, target)
    engine.dispose()


def _not_empty() -> BackupError:
    return BackupError(
        _(
            "The configured database already holds accounts, projects or households: a restore "
            "would replace them. Restore into an empty database, or add --force to replace it."
        )
    )


def _restore_postgres(opened: _Opened, force: bool, progress: Progress) -> None:
    pg_restore = _tool("pg_restore")
    url = _migration_url()
    owner = sa.create_engine(url)
    try:
        with owner.begin() as connection:
            if _holds_work(connection) and not force:
                raise _not_empty()
            tables = sa.inspect(connection).get_table_names()
            if tables:
                progress(_("Dropping the tables the database holds …"))
                quote = connection.dialect.identifier_preparer.quote
                for name in tables:
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)} CASCADE")
                connection.exec_driver_sql(
                    "DROP FUNCTION IF EXISTS audit_events_refuse_change() CASCADE"
                )
    finally:
        owner.dispose()
    db.engine.dispose()
    progress(_("Loading the database (pg_restore) …"))
    args, env = _libpq(url)
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(opened.part),
        ],
        env,
    )
    role = app_role(current_app.config)
    if role is not None:  # (--no-acl: the dump's grants name another installation's roles)
        owner = sa.create_engine(url)
        try:
            with owner.begin() as connection:
                grant_app_role(connection, role)
        finally:
            owner.dispose()


def restore_backup(path: Path, *, force: bool = False, progress: Progress = _quiet) -> Outcome:
    """Load a backup into the configured database: refuse one that holds work unless `force`,
    check the counts as loaded, migrate to the current schema, check the audit chain and the
    documents, and record the restore in the restored audit trail."""
    from flask_migrate import upgrade

    path = path.resolve()
    backend = _backend(db.engine)
    with _workspace(path) as work:
        opened = _open(path, work, progress)
        manifest = opened.manifest
        made_on = manifest["database"]["backend"]
        if made_on != backend:
            raise BackupError(
                _(
                    "This backup was made on %(made)s and the configured database is %(target)s: "
                    "restore it into the same kind of database.",
                    made=made_on,
                    target=backend,
                )
            )
        if backend == "postgresql":
            _restore_postgres(opened, force, progress)
        else:
            _restore_sqlite(opened, force, progress)
    lines = _summary(manifest)
    with db.engine.connect() as connection:
        progress(_("Checking row counts and archived documents …"))
        lines += _check_loaded(connection, manifest)
    if manifest["schema_revision"]:
        progress(_("Migrating to the current schema …"))
        upgrade()
    with db.engine.connect() as connection:
        lines.append(_check_chain(connection, manifest, progress))
    record_event(
        db.session,
        "backup_restored",
        "Backup",
        None,
        {
            "file": [None, str(path)],
            "made_at": [None, manifest["created_at"]],
            "households": [None, manifest["counts"].get("households", 0)],
            "audit_last_seq": [None, manifest["audit_chain"]["last_seq"]],
        },
    )
    db.session.flush()
    return Outcome(manifest, lines=lines, path=path)
