"""request signing: integration accounts' AppKeys, the nonces signed requests used, and the account's requirement

政务 request signing (issue 29, point 5; identity/signing.py): an AppKey with its secret per integration system,
the nonces seen within the 5-minute window (a second use is a replay), and whether an account's bare API keys are
refused.

Revision ID: gateway_0014_request_signing
Revises: gateway_0013_account_head
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "gateway_0014_request_signing"
down_revision: str | Sequence[str] | None = "gateway_0013_account_head"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "account", sa.Column("signed_requests_required", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.alter_column("account", "signed_requests_required", server_default=None)
    op.create_table(
        "app_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("app_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_key"),
    )
    op.create_index(op.f("ix_app_key_account_id"), "app_key", ["account_id"], unique=False)
    op.create_table(
        "request_nonce",
        sa.Column("app_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("app_key", "nonce"),
    )
    op.create_index(op.f("ix_request_nonce_expires_at"), "request_nonce", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_request_nonce_expires_at"), table_name="request_nonce")
    op.drop_table("request_nonce")
    op.drop_index(op.f("ix_app_key_account_id"), table_name="app_key")
    op.drop_table("app_key")
    op.drop_column("account", "signed_requests_required")
