"""campaign.catalog_digest

The digest of the catalog document `apply_catalog` last applied, so that a receiver of the same
document again (the gateway, at every catalog.published event and every rebuild) skips it without
comparing every row.  NULL on rows applied before this revision: compared in full, as before.

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-27 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "catalog_0002"
down_revision: str | Sequence[str] | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaign", sa.Column("catalog_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "catalog_digest")
