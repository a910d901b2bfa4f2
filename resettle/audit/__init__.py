"""The audit blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("audit", __name__)
