"""gateway read models

report_view, official_value, task_status_view, indicator_progress_view, view_generation.

The root of the per-plan branch (decision 0017): run in public (the legacy plan's views) and in each plan's schema.
view_generation is the gateway's, not a plan's: made in public only (it was made here before the branch was split).

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-22 06:40:40.333927
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0001"
down_revision: str | Sequence[str] | None = None  # its own branch: the read models reference no kernel table
branch_labels: str | Sequence[str] | None = ("gateway_views",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_progress_view",
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "completed",
                "on_track",
                "at_risk",
                "behind",
                "no_data",
                "no_target",
                name="status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("payload", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_code", "org_unit_code"),
    )
    op.create_index(op.f("ix_indicator_progress_view_campaign"), "indicator_progress_view", ["campaign"], unique=False)
    op.create_index(op.f("ix_indicator_progress_view_status"), "indicator_progress_view", ["status"], unique=False)
    op.create_table(
        "official_value",
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_code", "org_unit_code", "period"),
    )
    op.create_table(
        "report_view",
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("campaign", "report_id"),
    )
    op.create_index(op.f("ix_report_view_indicator_code"), "report_view", ["indicator_code"], unique=False)
    op.create_table(
        "task_status_view",
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("narrative", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("problems", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_number", "org_unit_code", "period"),
    )
    if op.get_context().version_table_schema is not None:
        return  # a plan's schema
    op.create_table(
        "view_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    if op.get_context().version_table_schema is None:
        op.drop_table("view_generation")
    op.drop_table("task_status_view")
    op.drop_index(op.f("ix_report_view_indicator_code"), table_name="report_view")
    op.drop_table("report_view")
    op.drop_table("official_value")
    op.drop_index(op.f("ix_indicator_progress_view_status"), table_name="indicator_progress_view")
    op.drop_index(op.f("ix_indicator_progress_view_campaign"), table_name="indicator_progress_view")
    op.drop_table("indicator_progress_view")
