"""How a printed document is verified: its public address and QR code, and the check."""

from __future__ import annotations

import base64
import hmac
import io
import re
import unicodedata
from urllib.parse import urlencode

import qrcode
from flask import current_app
from qrcode.constants import ERROR_CORRECT_M


def verify_url(number: str, check_code: str) -> str:
    """The public address that confirms a document (number and check code in the query):
    always PUBLIC_BASE_URL, never the address a caseworker's request came in on (an intranet
    address printed on paper reaches no resident)."""
    query = {"number": number, "code": check_code}
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    return f"{base.rstrip('/')}/public/verify?{urlencode(query)}"


def qr_png(text: str) -> bytes:
    """A QR code of `text` as a small PNG (one pixel a module; the PDF scales it crisply).

    The mask pattern is fixed: choosing the "best" of eight took 80% of the time and makes no
    difference to a phone's camera at this size.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=4, mask_pattern=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


_OPENING = "[(【〈《{<〖「『〔"
_CLOSING = "])】〉》}>〗」』〕"
_BRACKETS = str.maketrans({**dict.fromkeys(_OPENING, "〔"), **dict.fromkeys(_CLOSING, "〕")})


def normalise_number(typed: str | None) -> str:
    """A document number as typed on a phone or copied from a scan, in the printed form:
    东征签催[2026]15 and 东征签催（２０２６）１５号 are 东征签催〔2026〕15号. Full-width characters
    become plain ones, any bracket pair the printed 〔〕, spaces go, a missing 号 is added."""
    text = unicodedata.normalize("NFKC", typed or "")
    text = "".join(text.split()).translate(_BRACKETS)
    if text and text[-1].isdigit():
        text += "号"
    # a sequence typed with leading zeros (〔2026〕015号) is the printed 〔2026〕15号
    return re.sub(r"〕0+(?=\d)", "〕", text)


def check_code_matches(given: str | None, expected: str) -> bool:
    """A typed check code against the printed one: constant time, spaces, case and full-width
    characters aside."""
    typed = "".join(unicodedata.normalize("NFKC", given or "").split()).upper()
    return hmac.compare_digest(typed.encode(), expected.encode())
