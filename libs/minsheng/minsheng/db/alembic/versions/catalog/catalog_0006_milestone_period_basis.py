"""indicator_milestone.quarter, .basis, .comparator

Annual and quarterly targets inside a plan: a milestone may be for a quarter of a year, may count the
year's flow instead of the figure reached, and may carry its own comparator.  Rows stored before it are
what they meant then: a whole year's value reached, with the indicator's comparator.

Revision ID: catalog_0006
Revises: catalog_0005
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0006"
down_revision: str | Sequence[str] | None = "catalog_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = "indicator_milestone_indicator_code_year_key"  # catalog_0001's, as PostgreSQL named it
NEW_KEY = "indicator_milestone_indicator_code_year_quarter_basis_key"


def upgrade() -> None:
    op.add_column("indicator_milestone", sa.Column("quarter", sa.Integer(), nullable=True))
    op.add_column(
        "indicator_milestone",
        sa.Column(
            "basis",
            sa.Enum("reached", "year_flow", name="milestonebasis", native_enum=False, length=16),
            nullable=True,
        ),
    )
    op.add_column(
        "indicator_milestone",
        sa.Column(
            "comparator",
            sa.Enum("at_least", "at_most", "about", name="comparator", native_enum=False, length=16),
            nullable=True,
        ),
    )
    op.execute("UPDATE indicator_milestone SET basis = 'reached'")
    op.alter_column("indicator_milestone", "basis", nullable=False)
    op.drop_constraint(OLD_KEY, "indicator_milestone", type_="unique")
    op.create_unique_constraint(NEW_KEY, "indicator_milestone", ["indicator_code", "year", "quarter", "basis"])


def downgrade() -> None:
    # What the old schema cannot hold goes: quarterly targets and yearly flows.
    op.execute("DELETE FROM indicator_milestone WHERE quarter IS NOT NULL OR basis <> 'reached'")
    op.drop_constraint(NEW_KEY, "indicator_milestone", type_="unique")
    op.create_unique_constraint(OLD_KEY, "indicator_milestone", ["indicator_code", "year"])
    op.drop_column("indicator_milestone", "comparator")
    op.drop_column("indicator_milestone", "basis")
    op.drop_column("indicator_milestone", "quarter")
