"""The `evidence_file` table as a migration creates it: shared by the campaign services' reporting branch
(reporting_0005) and the gateway's own revision (gateway_0011, the 督办单's files), so the table the kernel's
evidence functions work on is one shape wherever it lives.  Frozen: a change to the table is a new migration in
each plan, never an edit here."""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


def create_evidence_file_table() -> None:
    op.create_table(
        "evidence_file",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("thumbnail_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pdf", "jpeg", "png", "docx", "xlsx", name="evidencekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("thumbnail_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum("uploading", "pending", "attached", "deleting", name="evidencestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uploader_account", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attached_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("object_key"),
    )
    op.create_index(op.f("ix_evidence_file_state"), "evidence_file", ["state"], unique=False)
    op.create_index(op.f("ix_evidence_file_uploader_account"), "evidence_file", ["uploader_account"], unique=False)


def drop_evidence_file_table() -> None:
    op.drop_index(op.f("ix_evidence_file_uploader_account"), table_name="evidence_file")
    op.drop_index(op.f("ix_evidence_file_state"), table_name="evidence_file")
    op.drop_table("evidence_file")
