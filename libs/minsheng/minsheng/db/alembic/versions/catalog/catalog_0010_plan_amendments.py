"""catalog_version

修订记录 (issue 26, points 1 and 5): each publication of a plan's catalog that changed something (its creation, every
amendment, a changed catalog file of the 2022–2024 plan at start-up) is kept as a version of the campaign's catalog in
that plan, with who published it and what it created, updated and retired.  Empty before this revision: the history
starts with the next change.

Revision ID: catalog_0010_plan_amendments
Revises: catalog_0009_indicator_continues
Create Date: 2026-12-08 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "catalog_0010_plan_amendments"
# Chained after the newest catalog revision on main at the branch's start; re-chained at merge if another came first.
down_revision: str | Sequence[str] | None = "catalog_0009_indicator_continues"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("campaign_code", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.Integer(), nullable=False),
        sa.Column("created", postgresql.JSONB(), nullable=False),
        sa.Column("updated", postgresql.JSONB(), nullable=False),
        sa.Column("retired", postgresql.JSONB(), nullable=False),
        sa.UniqueConstraint("plan_code", "campaign_code", "version"),
    )


def downgrade() -> None:
    op.drop_table("catalog_version")
