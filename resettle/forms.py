"""What every form view shares: putting a service's refusal on the field it concerns."""

from __future__ import annotations

from typing import Any

from resettle.errors import RuleViolation


def show_violation(form: Any, exc: RuleViolation, fallback: str) -> None:
    """Show a rule's message under the field it names, or under `fallback` when the form has
    no such field (a message never gets lost, and a field name never causes an error page)."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, fallback)
    errors = target.errors if isinstance(target.errors, list) else []
    target.errors = [*errors, exc.message]
