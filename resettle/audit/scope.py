"""Which audit events an account bounded by projects (片区) sees: those of its projects' records
and its own.

The project of an event is found at query time, through the records it names: an event of a
project-owned record is seen when that record is (`projects.scope` adds the account's loader
criteria to the subqueries below, so the one scope decides, shared estates included). A record
since deleted (a replaced member, an undone step, a removed plan node, a discarded disclosure)
is judged by the parent its insert and delete rows name (`household_id`, `plan_id`,
`project_id` in their values). Events of records no project owns (accounts, calendar days,
templates) and downloads of whole lists are seen only by the account that made them, or when
they are about the account itself. Accounts bounded by no project see every event.

Why not a `project_id` column on audit_events: estates are shared by several projects (one
column cannot say "every project using site 3"), the rows are write-once (filling the column
for old rows would mean lifting the triggers), and the scope's own criteria already say which
records an account sees.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.projects.scope import visible_project_ids


def _scoped_models() -> dict[str, Any]:
    from resettle.extensions import db
    from resettle.projects.scope import SCOPED_MODEL_NAMES

    return {
        mapper.class_.__name__: mapper.class_
        for mapper in db.Model.registry.mappers
        if mapper.class_.__name__ in SCOPED_MODEL_NAMES
    }


# Records that are deleted, with the column naming the parent that decides their visibility.
_DELETED_PARENTS = {
    "HouseholdMember": ("household_id", "Household"),
    "CaseStep": ("household_id", "Household"),
    "SupervisionItem": ("household_id", "Household"),
    "PlanNode": ("plan_id", "Plan"),
    "Disclosure": ("project_id", "ExpropriationProject"),
}


def _stored_id(key: str) -> Any:
    """The parent id an insert (new value) or delete (old value) row holds for `key`."""
    return sa.func.coalesce(
        AuditEvent.changes[(key, 1)].as_integer(), AuditEvent.changes[(key, 0)].as_integer()
    )


def visible_events_clause(user: Any) -> Any | None:
    """The WHERE clause limiting audit events to what `user` sees, or None when it sees all."""
    if visible_project_ids() is None:
        return None
    models = _scoped_models()

    def ids(model: Any) -> Any:
        pk = sa.inspect(model).primary_key[0]
        return sa.select(getattr(model, pk.key))

    parts = [
        AuditEvent.user_id == user.id,
        sa.and_(AuditEvent.entity_type == "User", AuditEvent.entity_id == user.id),
    ]
    for name, model in models.items():
        parts.append(sa.and_(AuditEvent.entity_type == name, AuditEvent.entity_id.in_(ids(model))))
    for name, (key, parent) in _DELETED_PARENTS.items():
        parts.append(
            sa.and_(
                AuditEvent.entity_type == name,
                AuditEvent.action.in_(("insert", "delete")),
                _stored_id(key).in_(ids(models[parent])),
            )
        )
    return sa.or_(*parts)


def visible_events(query: Any, user: Any) -> Any:
    """`query` (a select of AuditEvent) limited to the events `user` sees."""
    clause = visible_events_clause(user)
    return query if clause is None else query.where(clause)
