"""Compensation agreements (补偿协议): numbered, archived, verifiable; figures frozen at signing."""

from flask import Blueprint

bp = Blueprint("agreements", __name__, url_prefix="/agreements")
