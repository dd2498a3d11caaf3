"""The jobs table: one row per big document to render, what the API and the web UI show of it.

On SQLite the same row is the queue (state, lease owner and expiry, attempts); on PostgreSQL the queue is
procrastinate's (`queue_ref` names its job) and the row keeps the document's state, progress and file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fundsvc.db import Base, JSONType, utcnow

STATES = ("queued", "running", "done", "failed")
# A job in these states stands for its document: an identical request joins it instead of queueing another.
LIVE_STATES = ("queued", "running", "done")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        CheckConstraint("progress_done >= 0 AND progress_total >= 0", name="progress_positive"),
        # One live job per document (the dedupe key names the document and everything its bytes come from).
        Index(
            "uq_jobs_live_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state <> 'failed'"),
            postgresql_where=text("state <> 'failed'"),
        ),
        # The table queue's claim: the oldest queued job, or a running one whose lease ran out.
        Index("ix_jobs_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[Any] = mapped_column(JSONType)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    # The document whatever its data (kind, parameters, the requester's scope and variant): a newer version's file
    # replaces the older ones', as in the ceremony documents' cache.
    document_key: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    # Who asked (the worker renders as that user) and what the document may hold: the requester's subtree
    # (None: every unit) and whether pupils' personal data is printed.
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_path: Mapped[str | None] = mapped_column(String(400))
    personal: Mapped[bool] = mapped_column(default=False)
    rows: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    result_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(1000))
    queue_ref: Mapped[int | None]  # procrastinate's job id (PostgreSQL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
