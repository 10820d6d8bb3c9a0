"""catalog tables

Campaigns, work items, tasks with lead departments, indicators with milestones, org units and
district targets. Reviewed by hand after autogenerate.

Revision ID: catalog_0001
Revises:
Create Date: 2026-11-22 06:06:52.755838
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "catalog_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("catalog",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "campaign",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "org_unit",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("parent_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "work_item",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_code"],
            ["campaign.code"],
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index(op.f("ix_work_item_campaign_code"), "work_item", ["campaign_code"], unique=False)
    op.create_table(
        "task",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_code"],
            ["campaign.code"],
        ),
        sa.ForeignKeyConstraint(
            ["item_number"],
            ["work_item.number"],
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index(op.f("ix_task_campaign_code"), "task", ["campaign_code"], unique=False)
    op.create_index(op.f("ix_task_item_number"), "task", ["item_number"], unique=False)
    op.create_table(
        "indicator",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("campaign_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("task_number", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column(
            "comparator",
            sa.Enum("at_least", "at_most", "about", name="comparator", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum("cumulative", "yearly", "level", "one_year", name="indicatorkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column(
            "aggregation",
            sa.Enum("sum", "ratio", "none", name="aggregation", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("city_only", sa.Boolean(), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=True),
        sa.Column("baseline_year", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_code"],
            ["campaign.code"],
        ),
        sa.ForeignKeyConstraint(
            ["task_number"],
            ["task.number"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(op.f("ix_indicator_campaign_code"), "indicator", ["campaign_code"], unique=False)
    op.create_index(op.f("ix_indicator_task_number"), "indicator", ["task_number"], unique=False)
    op.create_table(
        "task_lead_department",
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_number"],
            ["task.number"],
        ),
        sa.PrimaryKeyConstraint("task_number", "department"),
    )
    op.create_table(
        "district_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicator.code"],
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_code"],
            ["org_unit.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_code", "org_unit_code"),
    )
    op.create_index(op.f("ix_district_target_indicator_code"), "district_target", ["indicator_code"], unique=False)
    op.create_index(op.f("ix_district_target_org_unit_code"), "district_target", ["org_unit_code"], unique=False)
    op.create_table(
        "indicator_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicator.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_code", "year"),
    )
    op.create_index(
        op.f("ix_indicator_milestone_indicator_code"), "indicator_milestone", ["indicator_code"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_indicator_milestone_indicator_code"), table_name="indicator_milestone")
    op.drop_table("indicator_milestone")
    op.drop_index(op.f("ix_district_target_org_unit_code"), table_name="district_target")
    op.drop_index(op.f("ix_district_target_indicator_code"), table_name="district_target")
    op.drop_table("district_target")
    op.drop_table("task_lead_department")
    op.drop_index(op.f("ix_indicator_task_number"), table_name="indicator")
    op.drop_index(op.f("ix_indicator_campaign_code"), table_name="indicator")
    op.drop_table("indicator")
    op.drop_index(op.f("ix_task_item_number"), table_name="task")
    op.drop_index(op.f("ix_task_campaign_code"), table_name="task")
    op.drop_table("task")
    op.drop_index(op.f("ix_work_item_campaign_code"), table_name="work_item")
    op.drop_table("work_item")
    op.drop_table("org_unit")
    op.drop_table("campaign")
