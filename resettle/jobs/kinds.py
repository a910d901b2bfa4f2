"""Where the kinds of job are: each domain keeps its own in `<domain>/jobs.py`."""

from __future__ import annotations

import importlib

#: The modules that register kinds of job (`@job_kind`), imported when the app is made.
KIND_MODULES = (
    "resettle.backup.jobs",
    "resettle.disclosure.jobs",
    "resettle.funds.jobs",
    "resettle.households.jobs",
    "resettle.notices.jobs",
    "resettle.plans.jobs",
    "resettle.supervision.jobs",
)


def register_kinds() -> None:
    for name in KIND_MODULES:
        importlib.import_module(name)
