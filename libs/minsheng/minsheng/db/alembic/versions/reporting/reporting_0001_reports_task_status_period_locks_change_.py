"""reports, task status, period locks, change records

Revision ID: reporting_0001
Revises:
Create Date: 2026-11-22 06:21:35.793442
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reporting",)
depends_on: str | Sequence[str] | None = "catalog_0001"


def upgrade() -> None:
    op.create_table(
        "change_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("series_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("previous", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("current", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_change_record_entity"), "change_record", ["entity"], unique=False)
    op.create_index(op.f("ix_change_record_entity_id"), "change_record", ["entity_id"], unique=False)
    op.create_index(op.f("ix_change_record_series_key"), "change_record", ["series_key"], unique=False)
    op.create_table(
        "period_lock",
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("locked_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "task_status_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "not_started", "in_progress", "completed", "blocked", name="taskstate", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("narrative", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("problems", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_code"],
            ["org_unit.code"],
        ),
        sa.ForeignKeyConstraint(
            ["task_number"],
            ["task.number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_status_report_task_number"), "task_status_report", ["task_number"], unique=False)
    op.create_index(
        "uq_task_status_current_revision",
        "task_status_report",
        ["task_number", "org_unit_code", "period"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("submitted", "approved", "returned", name="reportstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("return_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicator.code"],
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_code"],
            ["org_unit.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_code", "org_unit_code", "period", "revision"),
    )
    op.create_index(op.f("ix_report_indicator_code"), "report", ["indicator_code"], unique=False)
    op.create_index(op.f("ix_report_org_unit_code"), "report", ["org_unit_code"], unique=False)
    op.create_index(op.f("ix_report_period"), "report", ["period"], unique=False)
    op.create_index(op.f("ix_report_status"), "report", ["status"], unique=False)
    op.create_index(
        "uq_report_current_revision",
        "report",
        ["indicator_code", "org_unit_code", "period"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.drop_index("uq_report_current_revision", table_name="report", postgresql_where=sa.text("is_current"))
    op.drop_index(op.f("ix_report_status"), table_name="report")
    op.drop_index(op.f("ix_report_period"), table_name="report")
    op.drop_index(op.f("ix_report_org_unit_code"), table_name="report")
    op.drop_index(op.f("ix_report_indicator_code"), table_name="report")
    op.drop_table("report")
    op.drop_index(
        "uq_task_status_current_revision", table_name="task_status_report", postgresql_where=sa.text("is_current")
    )
    op.drop_index(op.f("ix_task_status_report_task_number"), table_name="task_status_report")
    op.drop_table("task_status_report")
    op.drop_table("period_lock")
    op.drop_index(op.f("ix_change_record_series_key"), table_name="change_record")
    op.drop_index(op.f("ix_change_record_entity_id"), table_name="change_record")
    op.drop_index(op.f("ix_change_record_entity"), table_name="change_record")
    op.drop_table("change_record")
