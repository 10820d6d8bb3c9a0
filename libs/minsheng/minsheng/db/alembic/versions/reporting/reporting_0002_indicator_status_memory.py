"""indicator status memory

Revision ID: reporting_0002
Revises: reporting_0001
Create Date: 2026-11-22 06:36:30.080802
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0002"
down_revision: str | Sequence[str] | None = "reporting_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicator.code"],
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_code"],
            ["org_unit.code"],
        ),
        sa.PrimaryKeyConstraint("indicator_code", "org_unit_code"),
    )


def downgrade() -> None:
    op.drop_table("indicator_status")
