"""order evidence: 佐证材料 of the answers (反馈) to 督办单

The kernel's `evidence_file` table (the same shape as a campaign service's, created by the kernel's helper) and
the attachments of files to the steps of an order (decisions 0019, 0022).

Revision ID: gateway_0012_order_evidence
Revises: gateway_0011_account_contacts
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from minsheng.evidence.migration import create_evidence_file_table, drop_evidence_file_table

revision: str = "gateway_0012_order_evidence"
down_revision: str | Sequence[str] | None = "gateway_0011_account_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_evidence_file_table()
    op.create_table(
        "supervision_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("evidence_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence_file.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["supervision_order.id"]),
        sa.ForeignKeyConstraint(["step_id"], ["supervision_step.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_supervision_evidence_evidence_id"), "supervision_evidence", ["evidence_id"], unique=False)
    op.create_index(op.f("ix_supervision_evidence_order_id"), "supervision_evidence", ["order_id"], unique=False)
    op.create_index(op.f("ix_supervision_evidence_step_id"), "supervision_evidence", ["step_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_evidence_step_id"), table_name="supervision_evidence")
    op.drop_index(op.f("ix_supervision_evidence_order_id"), table_name="supervision_evidence")
    op.drop_index(op.f("ix_supervision_evidence_evidence_id"), table_name="supervision_evidence")
    op.drop_table("supervision_evidence")
    drop_evidence_file_table()
