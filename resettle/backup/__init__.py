"""Backups of the database and what it archives: `flask backup create|verify|restore`, and the
admin page that starts one as a job (views imported by create_app())."""

from flask import Blueprint

bp = Blueprint("backup", __name__)
