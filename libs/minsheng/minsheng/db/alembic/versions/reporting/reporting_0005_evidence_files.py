"""evidence files: 佐证材料 and their attachments to report revisions and task status reports

Revision ID: reporting_0005
Revises: reporting_0004
Create Date: 2026-12-07 10:32:27.503034
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from minsheng.evidence.migration import create_evidence_file_table, drop_evidence_file_table

revision: str = "reporting_0005"
down_revision: str | Sequence[str] | None = "reporting_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_evidence_file_table()
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
    drop_evidence_file_table()
