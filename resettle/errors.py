"""The one exception type services raise when a business rule refuses an action."""

from __future__ import annotations


class RuleViolation(Exception):
    """A business rule refused the action; `message` is translated, `field` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
