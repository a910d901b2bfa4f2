"""What every form shares: fields the database columns can hold, and putting a service's
refusal on the field it concerns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField

from resettle.calendar import outside_calendar
from resettle.db import INTEGER_MAX
from resettle.errors import RuleViolation
from resettle.translate import gettext as _


def show_violation(form: Any, exc: RuleViolation, fallback: str) -> None:
    """Show a rule's message under the field it names, or under `fallback` when the form has
    no such field (a message never gets lost, and a field name never causes an error page)."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, fallback)
    errors = target.errors if isinstance(target.errors, list) else []
    target.errors = [*errors, exc.message]


class ButtonForm(FlaskForm):
    """A button that changes something: its form holds only the CSRF token."""


class WholeNumberField(IntegerField):
    """An IntegerField for an Integer column: a number beyond it gets a message on the field
    instead of an error page from the database."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not -INTEGER_MAX <= self.data <= INTEGER_MAX:
            self.data = None
            raise ValueError(_("This number is too large."))


class AmountField(DecimalField):
    """Yuan (or m², with `digits=8`) in two decimals, as its Numeric column holds them: a
    finite number below 10**digits (Money is Numeric(14, 2), Area Numeric(10, 2)) in fen.
    "NaN", "Infinity", 1e20 and 0.001 get a message on the field."""

    def __init__(
        self, label: Any = None, validators: Any = None, *, digits: int = 12, **kwargs: Any
    ):
        kwargs.setdefault("places", 2)
        super().__init__(label, validators, **kwargs)
        self.limit = Decimal(10) ** digits

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is None:
            return
        if not self.data.is_finite():
            self.data = None
            raise ValueError(_("Not a valid decimal value."))
        if abs(self.data) >= self.limit:
            self.data = None
            raise ValueError(_("This number is too large."))
        if self.data != self.data.quantize(Decimal("0.01")):  # 0.001 would be kept as 0.00
            self.data = None
            raise ValueError(_("At most two decimal places."))


class AreaField(AmountField):
    """Square metres in two decimals, as an Area column (Numeric(10, 2)) holds them."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any):
        super().__init__(label, validators, digits=8, **kwargs)


def strip_text(value: Any) -> Any:
    """A filter for optional choices: whitespace alone is no choice (WTForms' Optional() stops
    the choice check for it, and the view would get "   ")."""
    return value.strip() if isinstance(value, str) else value


class DayField(DateField):
    """A date (YYYY-MM-DD) within the working-day calendar the system counts in, 2004 to 2100:
    2026-13-45 is "not a valid date" and 0001-01-01 or 9999-12-31 outside the calendar, each
    with its own message on the field (with InputRequired, not DataRequired, which would call
    an unreadable date "required")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        message = outside_calendar(self.data) if self.data is not None else None
        if message is not None:
            self.data = None
            raise ValueError(message)
