"""The plans blueprint (倒排工期, 挂图作战); its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("plans", __name__)
