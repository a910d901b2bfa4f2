"""The supervision blueprint (督查督办): overdue lists, supervision orders, the leader dashboard;
its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("supervision", __name__)
