"""indicator.frequency

How often an indicator is reported (month, quarter, year), catalog data since this revision. Rows
stored before it get the catalog guide's rule as it stands here; the next catalog applied (every
start-up) sets what the file says.

Revision ID: catalog_0003
Revises: catalog_0002
Create Date: 2026-12-03 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0003"
down_revision: str | Sequence[str] | None = "catalog_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROM_KIND_AND_AGGREGATION = """
UPDATE indicator SET frequency = CASE
    WHEN kind <> 'level' AND aggregation <> 'ratio' THEN 'month'
    WHEN kind = 'level' AND aggregation = 'sum' THEN 'quarter'
    ELSE 'year'
END
"""


def upgrade() -> None:
    op.add_column(
        "indicator",
        sa.Column(
            "frequency",
            sa.Enum("month", "quarter", "year", name="reportingfrequency", native_enum=False, length=16),
            nullable=True,
        ),
    )
    op.execute(FROM_KIND_AND_AGGREGATION)
    op.alter_column("indicator", "frequency", nullable=False)


def downgrade() -> None:
    op.drop_column("indicator", "frequency")
