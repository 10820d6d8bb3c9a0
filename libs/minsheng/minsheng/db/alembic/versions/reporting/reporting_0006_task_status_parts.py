"""task_status_report.partner_department: a partner department's own part of a task

Decision 0020: a task's 协办 (partner) departments each report their own part as a task status of their own, for
the city, keyed by the department beside the task, org unit and period; '' is the task as a whole (its lead's report,
or a district's for itself), which every row stored before this revision is.  The current revision is unique per
task × org unit × period × partner department.

Revision ID: reporting_0006_task_status_parts
Revises: reporting_0005
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reporting_0006_task_status_parts"
down_revision: str | Sequence[str] | None = "reporting_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "task_status_report",
        sa.Column(
            "partner_department", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default=""
        ),
    )
    op.drop_index("uq_task_status_current_revision", table_name="task_status_report")
    op.create_index(
        "uq_task_status_current_revision",
        "task_status_report",
        ["task_number", "org_unit_code", "period", "partner_department"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    # A partner's parts have no place without the column: they go with it.
    parts = "SELECT id FROM task_status_report WHERE partner_department <> ''"
    op.execute(f"DELETE FROM evidence_attachment WHERE task_status_id IN ({parts})")
    op.execute("DELETE FROM task_status_report WHERE partner_department <> ''")
    op.drop_index("uq_task_status_current_revision", table_name="task_status_report")
    op.create_index(
        "uq_task_status_current_revision",
        "task_status_report",
        ["task_number", "org_unit_code", "period"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.drop_column("task_status_report", "partner_department")
