"""outbox pending scan on a partial index

The relay's claim (`WHERE published_at IS NULL ORDER BY id LIMIT n`) on an index of the pending
rows only, in id order: an index scan that stops after n rows and marks the entries of rows
published since as dead, instead of a bitmap scan over every published row not yet vacuumed.
Written by hand (autogenerate does not compare index predicates).

Revision ID: messaging_0003
Revises: messaging_0002
Create Date: 2026-11-27 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "messaging_0003"
down_revision: str | Sequence[str] | None = "messaging_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("published_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_outbox_event_pending", table_name="outbox_event")
    op.create_index("ix_outbox_event_pending", "outbox_event", ["id"], unique=False, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_outbox_event_pending", table_name="outbox_event")
    op.create_index("ix_outbox_event_pending", "outbox_event", ["published_at", "id"], unique=False)
