"""plan.scoring

The league tables' scoring rule is plan data (it may change by year) instead of a constant in the gateway.  Rows
stored before it get the rule the gateway applied until now; the next catalog applied sets what the plan says.

Revision ID: catalog_0005
Revises: catalog_0004
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "catalog_0005"
down_revision: str | Sequence[str] | None = "catalog_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE_UNTIL_NOW = (
    '[{"from_year": null, "points": {"completed": 100, "on_track": 90, "at_risk": 60, "behind": 30, "no_data": 0},'
    ' "campaign_weights": {}, "overdue_deduction": 0, "deduction_cap": 20}]'
)


def upgrade() -> None:
    op.add_column(
        "plan",
        sa.Column("scoring", postgresql.JSONB(), nullable=False, server_default=sa.text(f"'{RULE_UNTIL_NOW}'::jsonb")),
    )


def downgrade() -> None:
    op.drop_column("plan", "scoring")
