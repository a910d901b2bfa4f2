"""The funds blueprint (资金调度); its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("funds", __name__)
