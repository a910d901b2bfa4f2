"""The households blueprint; its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("households", __name__)
