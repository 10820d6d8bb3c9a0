"""report_view.submitted_at and reviewed_at

When each report revision was handed in and when it was approved or returned, so the views that replay a
past day (completeness, overdue reports, a value's history) show what was known then.  Rows folded before
this revision take their last change as the time of what they are now (a submitted one was submitted
then, a decided one decided then); a rebuild (`minsheng-gateway-rebuild`) replays the real times.

Revision ID: gateway_0007
Revises: gateway_0006
Create Date: 2026-12-03 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0007"
down_revision: str | Sequence[str] | None = "gateway_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_view", sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("report_view", sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute("UPDATE report_view SET submitted_at = updated_at WHERE status = 'submitted'")
    op.execute("UPDATE report_view SET reviewed_at = updated_at WHERE status <> 'submitted'")


def downgrade() -> None:
    op.drop_column("report_view", "reviewed_at")
    op.drop_column("report_view", "submitted_at")
