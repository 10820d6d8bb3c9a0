"""evidence files: 佐证材料 and their attachments to report revisions and task status reports

Revision ID: reporting_0005
Revises: reporting_0004
Create Date: 2026-12-07 10:32:27.503034
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0005"
down_revision: str | Sequence[str] | None = "reporting_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    op.create_table(
        "evidence_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("task_status_id", sa.Integer(), nullable=True),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(report_id IS NULL) <> (task_status_id IS NULL)", name="ck_evidence_attachment_one_subject"
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_status_id"],
            ["task_status_report.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_evidence_attachment_evidence_id"), "evidence_attachment", ["evidence_id"], unique=False)
    op.create_index(op.f("ix_evidence_attachment_report_id"), "evidence_attachment", ["report_id"], unique=False)
    op.create_index(
        op.f("ix_evidence_attachment_task_status_id"), "evidence_attachment", ["task_status_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evidence_attachment_task_status_id"), table_name="evidence_attachment")
    op.drop_index(op.f("ix_evidence_attachment_report_id"), table_name="evidence_attachment")
    op.drop_index(op.f("ix_evidence_attachment_evidence_id"), table_name="evidence_attachment")
    op.drop_table("evidence_attachment")
    op.drop_index(op.f("ix_evidence_file_uploader_account"), table_name="evidence_file")
    op.drop_index(op.f("ix_evidence_file_state"), table_name="evidence_file")
    op.drop_table("evidence_file")
