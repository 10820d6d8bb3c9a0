"""indicator_progress_view answers ahead

The next day's answer beside today's (`next_on`, `next_status`, `next_payload`), computed in the hour
before midnight, so that a new day's first summaries read stored answers instead of computing them.

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-27 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0004"
down_revision: str | Sequence[str] | None = "gateway_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("indicator_progress_view", sa.Column("next_on", sa.Date(), nullable=True))
    op.add_column(
        "indicator_progress_view",
        sa.Column(
            "next_status",
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
            nullable=True,
        ),
    )
    op.add_column("indicator_progress_view", sa.Column("next_payload", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("indicator_progress_view", "next_payload")
    op.drop_column("indicator_progress_view", "next_status")
    op.drop_column("indicator_progress_view", "next_on")
