"""indicator.continues_plan, indicator.continues_indicator

接续指标 (issue 26, point 6): an indicator of a new plan may continue one of an older plan measuring the same thing,
named by that plan's code and the indicator's code there (codes repeat from plan to plan). Catalog data since this
revision; rows stored before it continue nothing, and the next catalog applied sets what its document says.

Revision ID: catalog_0009_indicator_continues
Revises: catalog_0008_task_partners
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0009_indicator_continues"
# After catalog_0008_task_partners (the two were written side by side).
down_revision: str | Sequence[str] | None = "catalog_0008_task_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("indicator", sa.Column("continues_plan", sa.String(length=40), nullable=True))
    op.add_column("indicator", sa.Column("continues_indicator", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("indicator", "continues_indicator")
    op.drop_column("indicator", "continues_plan")
