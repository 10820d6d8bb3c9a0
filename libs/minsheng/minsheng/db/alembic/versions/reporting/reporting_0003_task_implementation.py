"""task implementation states (执行中 / 暂缓实施 / 已取消 / 待确定)

The city office's decision on each task, as it stands; a task without a row is being carried out.  The
history of each change is in change_record (entity task_state).

Revision ID: reporting_0003
Revises: reporting_0002
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0003"
down_revision: str | Sequence[str] | None = "reporting_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_implementation",
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "in_progress",
                "suspended",
                "cancelled",
                "undecided",
                name="implementationstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_number"], ["task.number"]),
        sa.PrimaryKeyConstraint("task_number"),
    )


def downgrade() -> None:
    op.drop_table("task_implementation")
