"""An uploaded file waiting between its preview and its confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from resettle.db import UTCDateTime, utcnow
from resettle.extensions import db


class PendingUpload(db.Model):
    """A file a person uploaded for an import, kept in the database (not on one machine's disk)
    so that the confirmation may reach another machine behind a load balancer. Only the person
    who uploaded it can confirm it; it is removed when imported and after a day."""

    __tablename__ = "pending_uploads"
    __audit_skip__ = frozenset({"content", "preview"})

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # what the file is for: household_ledger …
    scope_id: Mapped[int] = mapped_column()  # the project or estate it is imported into
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # What its check found (counts, problems, the first rows), as the preview page shows it:
    # a large file's preview is made by a background job and shown from here.
    preview: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
