"""The audit trail, for admins and the supervision office (an account bounded by projects sees
its projects' events: `audit.scope`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_login import current_user

from resettle.audit import bp
from resettle.audit.models import AuditEvent
from resettle.audit.scope import visible_events
from resettle.auth.models import Role
from resettle.auth.policy import role_required
from resettle.db import database_int
from resettle.extensions import db

PAGE_SIZE = 50


@bp.route("/")
@role_required(Role.ADMIN, Role.SUPERVISOR)
def index():
    entity_type = request.args.get("entity_type", "").strip()
    actor = request.args.get("actor", "").strip()
    page = request.args.get("page", 1, type=database_int) or 1
    page = max(page, 1)
    query = visible_events(sa.select(AuditEvent).order_by(AuditEvent.id.desc()), current_user)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    events = list(db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    entity_types = list(
        db.session.scalars(
            sa.select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
        )
    )
    return render_template(
        "audit/index.html",
        events=events[:PAGE_SIZE],
        has_next=len(events) > PAGE_SIZE,
        page=page,
        entity_type=entity_type,
        actor=actor,
        entity_types=entity_types,
    )


@bp.route("/<entity_type>/<int:entity_id>")
@role_required(Role.ADMIN, Role.SUPERVISOR)
def record(entity_type: str, entity_id: int):
    if not entity_type.isidentifier():
        abort(404)
    query = sa.select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id
    )
    events = list(
        db.session.scalars(
            visible_events(query, current_user).order_by(
                AuditEvent.occurred_at.desc(), AuditEvent.id.desc()
            )
        )
    )
    if not events:
        abort(404)
    return render_template(
        "audit/record.html", events=events, entity_type=entity_type, entity_id=entity_id
    )
