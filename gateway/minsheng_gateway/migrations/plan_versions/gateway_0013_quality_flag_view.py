"""quality_flag_view: each validation rule's last word on an org unit and period (issue 30, decision 0024)

Folded from minsheng.quality.rule_failed.v1 and rule_resolved.v1; open while resolved_at is null.  Empty until the
first such event.

Revision ID: gateway_0013_quality_flags
Revises: gateway_0009_task_parts
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0013_quality_flags"
down_revision: str | Sequence[str] | None = "gateway_0009_task_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_flag_view",
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("expression", sqlmodel.sql.sqltypes.AutoString(length=420), nullable=False),
        sa.Column("importance", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("instruction", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("indicators", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("left_value", sa.Float(), nullable=False),
        sa.Column("right_value", sa.Float(), nullable=False),
        sa.Column("explained", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("campaign", "rule", "org_unit_code", "period"),
    )


def downgrade() -> None:
    op.drop_table("quality_flag_view")
