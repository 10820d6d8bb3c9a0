"""indicator_progress_view inputs

What each stored answer was computed from apart from the day (`ProgressInputs`): a new day's
answers are computed from it instead of re-reading every official value.  Rows stored before this
revision have none and are recomputed in full, as before.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-27 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | Sequence[str] | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("indicator_progress_view", sa.Column("inputs", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("indicator_progress_view", "inputs")
