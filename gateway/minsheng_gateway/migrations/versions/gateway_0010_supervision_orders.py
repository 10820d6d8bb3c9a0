"""supervision orders: 督办单 and the history of their steps

The gateway's own tables (decision 0022), in public beside the accounts: an order spans campaigns and plans.

Revision ID: gateway_0010_supervision_orders
Revises: gateway_0005
Create Date: 2026-12-07 20:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0010_supervision_orders"
down_revision: str | Sequence[str] | None = "gateway_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_order",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("instruction", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum(
                "indicator", "task", "district", "warning", "ranking", name="subjectkind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("subject_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("subject_label", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column(
            "lead_kind",
            sa.Enum("department", "org_unit", name="unitkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("lead_code", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("lead_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("partner_units", sa.JSON(), nullable=False),
        sa.Column("partner_keys", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "assigned",
                "acknowledged",
                "in_progress",
                "answered",
                "closed",
                "returned",
                name="orderstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("opened_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("measures", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("expected_result", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("expected_by", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "number", name="uq_supervision_order_year_number"),
    )
    op.create_index("ix_supervision_order_lead", "supervision_order", ["lead_kind", "lead_code"], unique=False)
    op.create_index("ix_supervision_order_subject", "supervision_order", ["subject_kind", "subject_ref"], unique=False)
    op.create_table(
        "supervision_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "open",
                "acknowledge",
                "start",
                "answer",
                "close",
                "send_back",
                name="orderaction",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_state",
            sa.Enum(
                "assigned",
                "acknowledged",
                "in_progress",
                "answered",
                "closed",
                "returned",
                name="orderstate",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "assigned",
                "acknowledged",
                "in_progress",
                "answered",
                "closed",
                "returned",
                name="orderstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["supervision_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_supervision_step_order_id"), "supervision_step", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_step_order_id"), table_name="supervision_step")
    op.drop_table("supervision_step")
    op.drop_index("ix_supervision_order_subject", table_name="supervision_order")
    op.drop_index("ix_supervision_order_lead", table_name="supervision_order")
    op.drop_table("supervision_order")
