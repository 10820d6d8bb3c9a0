"""indicator.evidence_required, task.evidence_required

须附佐证 (issue 28, point 4): an indicator's value, or a task's status, is accepted only with evidence attached.
Catalog data since this revision; rows stored before it require none (the 2022–2024 plan's catalog never did),
and the next catalog applied sets what its document says.

Revision ID: catalog_0007_evidence_rules
Revises: catalog_0006
Create Date: 2026-12-07 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0007_evidence_rules"
down_revision: str | Sequence[str] | None = "catalog_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("indicator", "task"):
        op.add_column(table, sa.Column("evidence_required", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ("indicator", "task"):
        op.drop_column(table, "evidence_required")
