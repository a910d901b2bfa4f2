"""The disclosure blueprint (信息公开): staff prepare, approve, publish and withdraw disclosures;
its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("disclosure", __name__)
