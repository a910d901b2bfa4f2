"""Reading a `pg_dump -Fc` file without restoring it: `pg_restore --data-only` writes each
table's rows as COPY text, which is parsed here, so `flask backup verify` can count every
table, walk the audit chain and hash every archived document on a machine with no database.

The rows that verification needs (the audit trail, the chain's head, archived documents) are
loaded into a scratch SQLite file with the same column names, and checked there by the same
code that checks a live database (`resettle.audit.chain.verify`).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

_COPY = re.compile(r"^COPY (?:\"?(\w+)\"?\.)?\"?(\w+)\"? \((.*)\) FROM stdin;$")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")


def _unescape(field: str) -> str | None:
    r"""A field of COPY's text format: \N is NULL, backslash escapes as PostgreSQL writes them."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "x" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, field)


def copy_blocks(stream: IO[str]) -> Iterator[tuple[str, list[str], Iterator[list[str | None]]]]:
    """(table, columns, rows) for each COPY block of a data-only SQL script; each block's rows
    must be consumed before the next block is asked for."""
    for line in stream:
        match = _COPY.match(line.rstrip("\n"))
        if not match:
            continue
        columns = [c.strip().strip('"') for c in match.group(3).split(",")]

        def rows() -> Iterator[list[str | None]]:
            for row in stream:
                row = row.rstrip("\n")
                if row == "\\.":
                    return
                yield [_unescape(f) for f in row.split("\t")]

        yield match.group(2), columns, rows()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def _bytea(text: str) -> bytes:
    return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode("latin-1")


_INTEGER = (sa.BigInteger, int)
_TEXT = (sa.Text, str)
# The scratch copy of the tables verification reads: each column's type and how its COPY text
# becomes a value (times as naive UTC, as SQLite keeps them).
_SCRATCH: dict[str, dict[str, tuple[Any, Any]]] = {
    "audit_events": {
        "id": _INTEGER,
        "occurred_at": (sa.DateTime, _utc),
        "user_id": _INTEGER,
        "actor": _TEXT,
        "ip": _TEXT,
        "request_id": _TEXT,
        "action": _TEXT,
        "entity_type": _TEXT,
        "entity_id": _INTEGER,
        "changes": (sa.JSON, json.loads),
        "chain_seq": _INTEGER,
        "chain_hmac": _TEXT,
    },
    "audit_chain": {
        "id": _INTEGER,
        "last_seq": _INTEGER,
        "last_hmac": _TEXT,
        "key_check": _TEXT,
        "base_seq": _INTEGER,
        "base_hmac": _TEXT,
    },
}


def _scratch(documents: tuple) -> dict[str, dict[str, tuple[Any, Any]]]:
    tables = dict(_SCRATCH)
    for table, id_column, bytes_column, sha_column in documents:
        tables[table] = {
            id_column: _INTEGER,
            bytes_column: (sa.LargeBinary, _bytea),
            sha_column: _TEXT,
        }
    return tables


def read_dump(
    pg_restore: str, dump: Path, scratch: Path, documents: tuple
) -> tuple[dict[str, int], sa.Engine]:
    """Row counts of every table in `dump`, and a SQLite engine on `scratch` holding its audit
    trail, chain head and archived documents."""
    engine = sa.create_engine(f"sqlite:///{scratch}")
    metadata = sa.MetaData()
    layout = _scratch(documents)
    tables = {
        name: sa.Table(name, metadata, *(sa.Column(c, kind) for c, (kind, _) in columns.items()))
        for name, columns in layout.items()
    }
    metadata.create_all(engine)
    counts: dict[str, int] = {}
    process = subprocess.Popen(
        [pg_restore, "--data-only", "--file", "-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdout is not None
    with engine.begin() as connection:
        for table, columns, rows in copy_blocks(process.stdout):
            converters = (
                {c: convert for c, (_, convert) in layout[table].items()}
                if table in layout
                else None
            )
            count, batch = 0, []
            for row in rows:
                count += 1
                if converters is None:
                    continue
                values = dict(zip(columns, row, strict=True))
                batch.append(
                    {
                        key: (None if values[key] is None else convert(values[key]))
                        for key, convert in converters.items()
                        if key in values
                    }
                )
                if len(batch) >= 5000:
                    connection.execute(sa.insert(tables[table]), batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(tables[table]), batch)
            counts[table] = count
    process.stdout.close()
    error = process.stderr.read() if process.stderr else ""
    if process.wait() != 0:
        engine.dispose()
        raise RuntimeError(error.strip()[-2000:])
    return counts, engine
