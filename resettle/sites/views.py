"""Resettlement estate screens."""

from resettle.sites import bp  # noqa: F401
