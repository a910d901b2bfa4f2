"""Today's date where the offices are (Asia/Shanghai), in one place so tests can pin it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

OFFICE_TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The current date in China."""
    return datetime.now(OFFICE_TZ).date()
