"""task_state_view: the city office's decisions on tasks (minsheng.task.state_changed.v1)

Every revision of each task's implementation state (执行中 / 暂缓实施 / 已取消 / 待确定); the highest is the
task's state.  Empty until the first event: a task without a row is in progress, as it was before.

Revision ID: gateway_0008
Revises: gateway_0007
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0008"
down_revision: str | Sequence[str] | None = "gateway_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_state_view",
        sa.Column("task_number", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("previous_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_number", "revision"),
    )


def downgrade() -> None:
    op.drop_table("task_state_view")
