"""The second factor (等保 8.1.4.1d): a TOTP authenticator app, and ten single-use recovery codes.

A code is accepted once: the last accepted time step is kept and a step not after it is refused;
a recovery code is deleted when used. The TOTP secret is stored encrypted with a key derived
from SECRET_KEY, so a database dump alone does not give it away.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode

import pyotp
import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from resettle.audit.services import record_event
from resettle.auth.models import RecoveryCode, Role, User
from resettle.auth.services import count_failed_login
from resettle.errors import RuleViolation
from resettle.translate import gettext as _

RECOVERY_CODES = 10
ISSUER = "resettle"
_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off paper


# --- the secret at rest ------------------------------------------------------------------------


def _keys() -> tuple[bytes, bytes]:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return (
        hmac.new(secret, b"resettle totp encryption", hashlib.sha256).digest(),
        hmac.new(secret, b"resettle totp authentication", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        for counter in range((length + 31) // 32)
    )
    return b"".join(blocks)[:length]


def encrypt_secret(secret: str) -> str:
    """HMAC-SHA256 in counter mode (a stream cipher) with an HMAC tag (encrypt-then-MAC); the
    standard library has no AES, and this needs no new dependency."""
    enc_key, mac_key = _keys()
    nonce = secrets.token_bytes(16)
    plain = secret.encode()
    cipher = bytes(
        a ^ b for a, b in zip(plain, _keystream(enc_key, nonce, len(plain)), strict=True)
    )
    tag = hmac.new(mac_key, nonce + cipher, hashlib.sha256).digest()[:16]
    return "v1:" + urlsafe_b64encode(nonce + tag + cipher).decode()


def decrypt_secret(stored: str) -> str | None:
    """The secret, or None when it cannot be read (SECRET_KEY changed): reset the factor."""
    if not stored.startswith("v1:"):
        return None
    raw = urlsafe_b64decode(stored[3:])
    nonce, tag, cipher = raw[:16], raw[16:32], raw[32:]
    enc_key, mac_key = _keys()
    expected = hmac.new(mac_key, nonce + cipher, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        return None
    stream = _keystream(enc_key, nonce, len(cipher))
    return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode()


# --- who needs it ------------------------------------------------------------------------------


def has_second_factor(user: User) -> bool:
    return user.totp_secret is not None


def second_factor_required(user: User) -> bool:
    """Every staff account where MFA_REQUIRED is on (production); admins also where it is off,
    except the demo's accounts, whose passwords the login page prints (`make run` stays two
    commands)."""
    if current_app.config.get("MFA_REQUIRED"):
        return True
    return user.role == Role.ADMIN and not user.is_demo


def must_enrol(user: User) -> bool:
    return second_factor_required(user) and not has_second_factor(user)


# --- enrolment ---------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(user: User, secret: str) -> str:
    """The enrolment QR code as inline SVG: the page fetches nothing from elsewhere."""
    image = qrcode.make(provisioning_uri(user, secret), image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    text = out.getvalue().decode()
    return text[text.index("<svg") :]


def _step_of(secret: str, code: str, now: float) -> int | None:
    """The time step (of now, the one before or after: clocks drift) whose code this is."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now) // totp.interval
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def confirm_enrolment(
    session: Session,
    user: User,
    secret: str,
    code: str,
    now: float | None = None,
    *,
    attempt: str | None = None,
) -> list[str]:
    """Turn on the second factor once a code from the app proves it was set up; returns the
    recovery codes to show once. A wrong code changes nothing."""
    step = _step_of(secret, code, time.time() if now is None else now)
    if step is None:
        raise RuleViolation(
            _("That code is not the one your authenticator app shows now: try again."), "code"
        )
    user.totp_secret = encrypt_secret(secret)
    user.totp_last_step = step
    codes = _replace_recovery_codes(session, user)
    record_event(
        session, "mfa_enrolled", "User", user.id, {"attempt": attempt} if attempt else None
    )
    return codes


# --- recovery codes ----------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    normal = "".join(c for c in (code or "").lower() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(c)) for c in codes)
    session.flush()
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten fresh codes; the old ones stop working. The caller has re-authenticated the user."""
    if not has_second_factor(user):
        raise RuleViolation(_("Set up the authenticator app first."))
    codes = _replace_recovery_codes(session, user)
    record_event(session, "mfa_new_codes", "User", user.id)
    return codes


# --- the second step of a login ----------------------------------------------------------------


def verify_second_factor(session: Session, user: User, code: str, now: float | None = None) -> bool:
    """True when `code` is the app's code of a step after the last one used, or an unused
    recovery code (then deleted). A failure counts toward the lockout, like a wrong password."""
    secret = decrypt_secret(user.totp_secret) if user.totp_secret else None
    step = _step_of(secret, code, time.time() if now is None else now) if secret else None
    if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
        user.totp_last_step = step
        session.flush()
        return True
    if step is None:
        used = session.scalar(
            sa.select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(code)
            )
        )
        if used is not None:
            session.delete(used)
            session.flush()
            record_event(
                session,
                "mfa_recovery_used",
                "User",
                user.id,
                actor=user.username,
                user_id=user.id,
            )
            return True
    _count_failure(session, user, replayed=step is not None)
    return False


def _count_failure(session: Session, user: User, *, replayed: bool) -> None:
    count_failed_login(session, user, "mfa_failed", {"replayed": replayed})


# --- the administrator's reset -----------------------------------------------------------------


def reset_second_factor(session: Session, user: User) -> None:
    """Forget the account's authenticator and recovery codes and end its sessions: it enrols
    again at its next login (a lost phone). For the accounts screen and `flask users reset-mfa`."""
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
    record_event(session, "mfa_reset", "User", user.id)
    session.flush()
