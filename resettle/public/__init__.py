"""The public pages (no login, under /public/): projects, disclosures, a resident's own case,
notice verification. Its views are imported by create_app()."""

from flask import Blueprint

bp = Blueprint("public", __name__)
