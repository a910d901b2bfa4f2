"""The dashboard blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
