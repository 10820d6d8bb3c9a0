"""account head: a bureau account may be its department's 负责人, whom escalations reach (decision 0021)

Revision ID: gateway_0013_account_head
Revises: gateway_0012_order_evidence
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0013_account_head"
down_revision: str | Sequence[str] | None = "gateway_0012_order_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("account", sa.Column("head", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.alter_column("account", "head", server_default=None)


def downgrade() -> None:
    op.drop_column("account", "head")
