"""drop indicator_status: approvals no longer announce status moves

The table remembered each indicator's last computed status so that an approval could announce a move
as `minsheng.indicator.status_changed.v1`; nothing consumed that event (decision 0018).  Statuses are
the gateway's to compute and show (its `indicator_progress_view`, with `status_since`).

Revision ID: reporting_0004
Revises: reporting_0003
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0004"
down_revision: str | Sequence[str] | None = "reporting_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("indicator_status")


def downgrade() -> None:
    op.create_table(
        "indicator_status",
        sa.Column("indicator_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("org_unit_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
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
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["indicator_code"], ["indicator.code"]),
        sa.ForeignKeyConstraint(["org_unit_code"], ["org_unit.code"]),
        sa.PrimaryKeyConstraint("indicator_code", "org_unit_code"),
    )
