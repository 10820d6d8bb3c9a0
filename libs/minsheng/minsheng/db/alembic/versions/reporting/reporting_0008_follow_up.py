"""quality_follow_up, quality_follow_up_note: follow-up marks (待核实) on approved values and their threads

Issue 30 point 3: the city office marks an official value 待核实 with a comment, the reporter answers, the office
closes it (已核实); the thread lives with the report it is about.

Revision ID: reporting_0008_follow_up
Revises: reporting_0007_quality
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0008_follow_up"
down_revision: str | Sequence[str] | None = "reporting_0007_quality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_quality_follow_up_report_id"), "quality_follow_up", ["report_id"], unique=False)
    op.create_table(
        "quality_follow_up_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("opened", "answered", "closed", name="followupnotekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["follow_up_id"], ["quality_follow_up.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_quality_follow_up_note_follow_up_id"), "quality_follow_up_note", ["follow_up_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quality_follow_up_note_follow_up_id"), table_name="quality_follow_up_note")
    op.drop_table("quality_follow_up_note")
    op.drop_index(op.f("ix_quality_follow_up_report_id"), table_name="quality_follow_up")
    op.drop_table("quality_follow_up")
