"""The tables of evidence files: a file (its object in the store, what it is, who uploaded it, where it is in its
life) and its attachments to report revisions and task status reports (with a caption each)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column
from minsheng.evidence.content import EvidenceKind


class EvidenceState(str, enum.Enum):
    """A file's life: its row is written before its object (`uploading`), so that no object is ever without a
    row; `pending` once stored, until a report is saved with it (`attached`, for good) or the clean-up takes it
    (`deleting`: its objects are removed, then its row)."""

    uploading = "uploading"
    pending = "pending"
    attached = "attached"
    deleting = "deleting"


class EvidenceFile(SQLModel, table=True):
    __tablename__ = "evidence_file"

    id: str = Field(primary_key=True, max_length=32)  # random (uuid4 hex): the public id
    object_key: str = Field(max_length=300, unique=True)  # random too: the name never reaches the store
    thumbnail_key: str | None = Field(default=None, max_length=300)
    filename: str = Field(max_length=120)  # for display only
    kind: EvidenceKind = Field(sa_type=enum_column(EvidenceKind))
    media_type: str = Field(max_length=120)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    thumbnail_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    state: EvidenceState = Field(sa_type=enum_column(EvidenceState), index=True)
    uploaded_by: str = Field(max_length=200)
    uploader_account: int = Field(index=True)
    uploaded_at: dt.datetime
    attached_at: dt.datetime | None = None


class EvidenceAttachment(SQLModel, table=True):
    """A file attached to a report revision or to a task status report (exactly one of them).  A revision that
    keeps the files of the one it replaces has rows of its own for them; none is ever removed."""

    __tablename__ = "evidence_attachment"
    __table_args__ = (
        sa.CheckConstraint(
            "(report_id IS NULL) <> (task_status_id IS NULL)", name="ck_evidence_attachment_one_subject"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: str = Field(foreign_key="evidence_file.id", index=True, max_length=32)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    task_status_id: int | None = Field(default=None, foreign_key="task_status_report.id", index=True)
    caption: str = Field(default="", max_length=200)
    position: int = 0


EVIDENCE_TABLES = frozenset({EvidenceFile.__tablename__, EvidenceAttachment.__tablename__})
