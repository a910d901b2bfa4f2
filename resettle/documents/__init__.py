"""Numbered, archived, verifiable documents: notices, supervision orders (and agreements).

What every such document shares lives here, once: its number's counter and the check code
(`numbers`), the public verification address and QR code (`verification`), dates as official
documents print them (`dates`), and rendering to PDF/A, archiving with a SHA-256 and the
byte-identical reprint (`archive`). Each kind's own rules (which household may get which
notice, what an order says) stay next to its domain.
"""
