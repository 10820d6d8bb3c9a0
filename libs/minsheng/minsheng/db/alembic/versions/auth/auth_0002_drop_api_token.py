"""drop api_token: services trust the gateway's signed tokens

Accounts, sessions and API keys live in the gateway now (its `identity` tables); a service verifies
the gateway's signature and keeps no callers of its own.  Tokens issued into this table stop working:
their holders sign in at the gateway (people) or get an API key there (systems).

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_0002"
down_revision: str | Sequence[str] | None = "auth_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("api_token")


def downgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "city_office", "bureau", "district", "viewer", "integration", name="role", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("org_unit_code", sa.String(length=6), nullable=True),
        sa.Column("indicator_codes", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
