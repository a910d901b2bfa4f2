"""Backup forms: a button (its CSRF token) only."""

from flask_wtf import FlaskForm


class StartBackupForm(FlaskForm):
    pass
