"""Audited reads: who opened a household's full personal data, and who downloaded which list.

Exports leave the system with people's data in them, so every download is an audit event
("export") naming who, when (the row's time), what (the endpoint and the record) and which
filter (the query string, with anything that looks like an ID number or phone masked). A
household page shows editors the full ID number and phone: that is audited as "pii_viewed",
once per household per login session (the first view says who looked; each reload would only
add noise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import request, session
from sqlalchemy.orm import Session

from resettle.audit.models import AuditEvent
from resettle.audit.services import record_event
from resettle.db import begin_write
from resettle.idnumbers import mask_id_number, normalise_id_number
from resettle.privacy import mask_phone, sees_full_personal_data

F = TypeVar("F", bound=Callable[..., Any])

EXPORT = "export"
PII_VIEWED = "pii_viewed"


def _write_lock(db_session: Session) -> None:
    """Reads done, take the write lock for the one insert (on SQLite the read transaction ends
    first: upgrading it fails at once when another worker wrote in between)."""
    if db_session.get_bind().dialect.name == "sqlite":
        db_session.commit()
        begin_write(db_session)


def record_access(
    db_session: Session,
    action: str,
    entity_type: str,
    entity_id: int | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record a read of personal data from a GET request (the caller commits)."""
    _write_lock(db_session)
    record_event(db_session, action, entity_type, entity_id, changes)


def masked_filter(args: Any) -> str:
    """The query string of a request as the audit keeps it: key=value pairs, with values
    that look like an ID number or a phone number (a search) masked."""
    parts = []
    for key, value in args.items(multi=True):
        if not value:
            continue
        digits = sum(ch.isdigit() for ch in value)
        if digits >= 7:
            number = normalise_id_number(value)
            value = mask_id_number(number) if len(number) >= 15 else mask_phone(value)
        parts.append(f"{key}={value[:100]}")
    return "&".join(parts) or "—"


def _submitted_job(response: Any) -> bool:
    """Whether a download's view answered by sending the person to the background job that
    makes the file (the job's own download is audited again, as a "Job")."""
    return getattr(response, "status_code", None) == 303 and str(
        response.headers.get("Location", "")
    ).startswith("/jobs/")


def audited_download(entity_type: str, id_arg: str | None = None) -> Callable[[F], F]:
    """Decorate a view that downloads a file: a successful download, or the export job it
    submits, is an "export" event of `entity_type` (with the id from the route argument
    `id_arg`), with the filter it used."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = view(*args, **kwargs)
            if getattr(response, "status_code", 200) == 200 or _submitted_job(response):
                from resettle.extensions import db

                record_access(
                    db.session,
                    EXPORT,
                    entity_type,
                    kwargs.get(id_arg) if id_arg else None,
                    {
                        "download": [None, request.path],
                        "filter": [None, masked_filter(request.args)],
                    },
                )
                db.session.commit()
            return response

        wrapper.audited_download = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _session_start() -> datetime | None:
    started = session.get("login_at")
    return datetime.fromtimestamp(float(started), UTC) if started is not None else None


def record_pii_view(db_session: Session, user: Any, household_id: int) -> bool:
    """Audit that `user` was shown a household's full personal data, unless it already was in
    this login session. True when an event was written (the caller commits)."""
    if not sees_full_personal_data(user):
        return False
    started = _session_start()
    query = sa.select(AuditEvent.id).where(
        AuditEvent.entity_type == "Household",
        AuditEvent.entity_id == household_id,
        AuditEvent.action == PII_VIEWED,
        AuditEvent.user_id == user.id,
    )
    if started is not None:
        query = query.where(AuditEvent.occurred_at >= started)
    if db_session.execute(query.limit(1)).first() is not None:
        return False
    record_access(db_session, PII_VIEWED, "Household", household_id)
    return True
