"""report_view.return_reason

Why the city office returned a report, folded from the report's state (the events always carried it),
so the reporter's inbox can show it. Rows folded before this revision have none until the views are
rebuilt (`minsheng-gateway-rebuild`) or the report changes again.

Revision ID: gateway_0006
Revises: gateway_0005
Create Date: 2026-12-03 03:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0006"
down_revision: str | Sequence[str] | None = "gateway_0004"  # 0005 (identity) is shared: branch `gateway`
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_view", sa.Column("return_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column("report_view", "return_reason")
