"""The projects blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("projects", __name__)
