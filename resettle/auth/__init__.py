"""The auth blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
