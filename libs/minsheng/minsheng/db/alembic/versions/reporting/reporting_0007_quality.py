"""quality_rule, quality_bound, quality_failure: data quality rules, bounds and the failures found on entry

Issue 30, decision 0024: the city office's validation rules and min–max bounds are data of a plan (in the plan's
schema, as the reports they check); a rule that fails when a report is saved is recorded until a later report passes.

Revision ID: reporting_0007_quality
Revises: reporting_0006_task_status_parts
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0007_quality"
down_revision: str | Sequence[str] | None = "reporting_0006_task_status_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMPORTANCE = sa.Enum("high", "medium", "low", name="importance", native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "quality_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("left", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("operator", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("right", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("importance", IMPORTANCE, nullable=False),
        sa.Column("instruction", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_bound",
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=True),
        sa.Column("maximum", sa.Float(), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["indicator_code"], ["indicator.code"]),
        sa.ForeignKeyConstraint(["org_unit_code"], ["org_unit.code"]),
        sa.PrimaryKeyConstraint("indicator_code", "org_unit_code"),
    )
    op.create_table(
        "quality_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("left_value", sa.Float(), nullable=False),
        sa.Column("right_value", sa.Float(), nullable=False),
        sa.Column("importance", IMPORTANCE, nullable=False),
        sa.Column("explained", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_report", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_quality_failure_rule_id"), "quality_failure", ["rule_id"], unique=False)
    op.create_index(op.f("ix_quality_failure_period"), "quality_failure", ["period"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_quality_failure_period"), table_name="quality_failure")
    op.drop_index(op.f("ix_quality_failure_rule_id"), table_name="quality_failure")
    op.drop_table("quality_failure")
    op.drop_table("quality_bound")
    op.drop_table("quality_rule")
