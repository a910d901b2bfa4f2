"""Numbers without gaps and check codes, for every numbered document."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resettle.db import begin_write
from resettle.documents.models import DocumentSequence

#: Check codes: 8 characters without the look-alikes 0/O and 1/I (about 40 bits).
CHECK_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CHECK_CODE_LENGTH = 8


def begin_numbering(session: Session) -> None:
    """Open the transaction a document is numbered in; on SQLite take the write lock at BEGIN
    (BEGIN IMMEDIATE) so concurrent issuers queue instead of failing with "database is
    locked". Call it before the transaction reads anything (as sites.begin_allocation)."""
    begin_write(session, must_open=True)


def next_sequences(session: Session, kind: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of a kind (a notice type, an agreement kind) and
    year; returns the first.

    One atomic UPDATE … RETURNING on the counter row: PostgreSQL keeps the row locked until the
    transaction ends, so a concurrent issuer waits and then continues after our numbers; on
    SQLite the write lock does the same. A rollback gives the numbers back (no gaps).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(DocumentSequence)
        .values(type=str(kind), year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["type", "year"])
    )
    last = session.execute(
        sa.update(DocumentSequence)
        .where(DocumentSequence.type == str(kind), DocumentSequence.year == year)
        .values(last_number=DocumentSequence.last_number + count)
        .returning(DocumentSequence.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return last - count + 1


def new_check_code() -> str:
    """A random check code printed on the document and asked for by /public/verify."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))
