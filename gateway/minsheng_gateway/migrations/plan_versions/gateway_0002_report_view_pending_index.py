"""report_view pending index

A partial index on the current, not yet approved revisions: a summary reads them for every
indicator, and they are few among all the reports.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-27 05:58:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0002"
down_revision: str | Sequence[str] | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "is_current AND status = 'submitted'"


def upgrade() -> None:
    op.create_index(
        "ix_report_view_pending", "report_view", ["indicator_code"], unique=False, postgresql_where=sa.text(PENDING)
    )


def downgrade() -> None:
    op.drop_index("ix_report_view_pending", table_name="report_view", postgresql_where=sa.text(PENDING))
