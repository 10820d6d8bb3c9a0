"""The gateway's migration plan: the kernel's branches it holds and its own revisions, over its tables.
A module of its own so that the commands (rebuild, accounts) and the tests need not import the app.

Decision 0017: its own revisions are split in two branches.  `gateway` (versions/: identity) is shared and lives in
public only, with the messaging branch (processed events); `gateway_views` (plan_versions/: the read models) is per
plan, like the catalog branch: run in public for the legacy plan and in each further plan's schema `plan_<code>`."""

from pathlib import Path

from minsheng.catalog.models import CATALOG_TABLES
from minsheng.db.migrations import MigrationPlan
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES
from minsheng_gateway.identity.models import IDENTITY_TABLES
from minsheng_gateway.projection.models import PLAN_VIEW_TABLES, VIEW_TABLES
from minsheng_gateway.supervision.models import SUPERVISION_TABLES

migration_plan = MigrationPlan(
    process="gateway",
    kernel_branches=("catalog", MESSAGING_BRANCH),
    own_versions=Path(__file__).parent / "migrations" / "versions",
    plan_versions=Path(__file__).parent / "migrations" / "plan_versions",
    tables=CATALOG_TABLES | MESSAGING_TABLES | VIEW_TABLES | IDENTITY_TABLES | SUPERVISION_TABLES,
)

PLAN_TABLES = CATALOG_TABLES | PLAN_VIEW_TABLES  # what a plan's schema holds


def plan_migration_plan(schema: str) -> MigrationPlan:
    """The migrations of one plan's schema: its catalog and its views."""
    return migration_plan.for_schema(schema, ("catalog",), PLAN_TABLES)
