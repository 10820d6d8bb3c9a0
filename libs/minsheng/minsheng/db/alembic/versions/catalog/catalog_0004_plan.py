"""plan; campaign.plan_code

A plan is a record (its document, horizon and state) instead of two constants.  Campaign rows stored
before it name no plan until the next catalog applied (every start-up) names it.

Revision ID: catalog_0004
Revises: catalog_0003
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0004"
down_revision: str | Sequence[str] | None = "catalog_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("code", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("document_number", sa.String(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("draft", "published", "closed", name="planstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("legacy", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("campaign", sa.Column("plan_code", sa.String(length=40), nullable=True))
    op.create_foreign_key("campaign_plan_code_fkey", "campaign", "plan", ["plan_code"], ["code"])


def downgrade() -> None:
    op.drop_constraint("campaign_plan_code_fkey", "campaign", type_="foreignkey")
    op.drop_column("campaign", "plan_code")
    op.drop_table("plan")
