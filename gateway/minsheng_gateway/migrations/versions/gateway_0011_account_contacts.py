"""account contacts: e-mail, mobile, group robots and muted channels (the notifier's, decision 0021)

Revision ID: gateway_0011_account_contacts
Revises: gateway_0010_supervision_orders
Create Date: 2026-12-07 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0011_account_contacts"
down_revision: str | Sequence[str] | None = "gateway_0010_supervision_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("account", sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    op.add_column("account", sa.Column("mobile", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    op.add_column("account", sa.Column("robots", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("account", sa.Column("muted", sa.JSON(), nullable=False, server_default="[]"))
    op.alter_column("account", "robots", server_default=None)
    op.alter_column("account", "muted", server_default=None)


def downgrade() -> None:
    for column in ("muted", "robots", "mobile", "email"):
        op.drop_column("account", column)
