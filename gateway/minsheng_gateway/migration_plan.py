"""The gateway's migration plan: the kernel's branches it holds and its own revisions, over its tables.
A module of its own so that the commands (rebuild, accounts) and the tests need not import the app."""

from pathlib import Path

from minsheng.catalog.models import CATALOG_TABLES
from minsheng.db.migrations import MigrationPlan
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES
from minsheng_gateway.identity.models import IDENTITY_TABLES
from minsheng_gateway.projection.models import VIEW_TABLES

migration_plan = MigrationPlan(
    process="gateway",
    kernel_branches=("catalog", MESSAGING_BRANCH),
    own_versions=Path(__file__).parent / "migrations" / "versions",
    tables=CATALOG_TABLES | MESSAGING_TABLES | VIEW_TABLES | IDENTITY_TABLES,
)
