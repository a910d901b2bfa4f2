"""Flask's signed-cookie sessions, with the signing serializer built once per secret key.

Flask builds a new serializer for every request, and building one runs a trial serialization
(itsdangerous checks whether the serializer returns text): about a tenth of the time of a
public page served from memory. The cookies are the same as Flask's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface


class CachedSigningSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._signing: tuple[Any, Any] | None = None

    def get_signing_serializer(self, app: Flask) -> Any:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._signing
        if cached is None or cached[0] != key:
            cached = self._signing = (key, super().get_signing_serializer(app))
        return cached[1]
