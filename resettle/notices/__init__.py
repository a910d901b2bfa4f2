"""The notices blueprint (通知书): issue, archive and reprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("notices", __name__)
