"""Keeping an upload between its preview and its confirmation (in the database, so that every
machine behind a load balancer sees it), bound to the person who uploaded it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import PurePath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle.auth.models import User
from resettle.db import begin_write, utcnow
from resettle.spreadsheets.models import PendingUpload

MAX_AGE = timedelta(days=1)


def stash_upload(
    session: Session, kind: str, scope_id: int, content: bytes, filename: str, user: User
) -> PendingUpload:
    """Keep an upload for its confirmation; the same person's earlier upload of the same kind
    and every upload older than a day are removed."""
    older = session.scalars(
        sa.select(PendingUpload).where(
            sa.or_(
                sa.and_(PendingUpload.user_id == user.id, PendingUpload.kind == kind),
                PendingUpload.created_at < utcnow() - MAX_AGE,
            )
        )
    )
    for old in older:
        session.delete(old)
    upload = PendingUpload(
        token=secrets.token_hex(16),
        kind=kind,
        scope_id=scope_id,
        user_id=user.id,
        filename=PurePath((filename or "").replace("\\", "/")).name[:255],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(upload)
    session.flush()
    return upload


def pending_upload(
    session: Session,
    kind: str,
    token: str | None,
    user: User,
    scope_id: int | None = None,
    *,
    claim: bool = False,
) -> PendingUpload | None:
    """The upload with this token if this person made it for this kind (and scope), within
    the day; None otherwise, whatever was wrong. With `claim` (to import it) the upload is
    locked until the transaction ends (FOR UPDATE; on SQLite the staff POST holds the write
    lock from its start, see queue_staff_writes): a second confirmation at the same moment (a
    double click, another tab) waits its turn, then finds it imported and gone."""
    if claim:
        begin_write(session)
    if not token or len(token) > 64:
        return None
    query = sa.select(PendingUpload).where(
        PendingUpload.token == token,
        PendingUpload.kind == kind,
        PendingUpload.user_id == user.id,
        PendingUpload.created_at >= utcnow() - MAX_AGE,
    )
    if scope_id is not None:
        query = query.where(PendingUpload.scope_id == scope_id)
    if claim:
        query = query.with_for_update()
    return session.scalar(query)


def discard_upload(session: Session, upload: PendingUpload) -> None:
    """Remove an upload once it is imported (or abandoned)."""
    session.delete(upload)
    session.flush()
