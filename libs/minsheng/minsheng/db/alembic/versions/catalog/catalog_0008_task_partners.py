"""task_partner_department: a task's 协办单位

Issue 26, point 4 (decision 0020): besides its 主办 (lead) departments, a task may name 协办 (partner) departments,
each of which reports its own part; districts are named one by one or all at once (各区县（功能区）).  Empty for the
tasks stored before it (the 2022–2024 plan names lead departments only); the next catalog applied fills it.

Revision ID: catalog_0008_task_partners
Revises: catalog_0007_evidence_rules
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "catalog_0008_task_partners"
down_revision: str | Sequence[str] | None = "catalog_0007_evidence_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_partner_department",
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_number"], ["task.number"]),
        sa.PrimaryKeyConstraint("task_number", "department"),
    )


def downgrade() -> None:
    op.drop_table("task_partner_department")
