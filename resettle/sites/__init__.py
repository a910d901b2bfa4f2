"""The sites blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("sites", __name__)
