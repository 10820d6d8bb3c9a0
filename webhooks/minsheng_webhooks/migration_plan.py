"""The webhooks worker's migration plan: the kernel's messaging branch (processed events) and its own tables."""

from pathlib import Path

from minsheng.db.migrations import MigrationPlan
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES
from minsheng_webhooks.deliveries.models import DELIVERY_TABLES
from minsheng_webhooks.endpoints.models import ENDPOINT_TABLES

migration_plan = MigrationPlan(
    process="webhooks",
    kernel_branches=(MESSAGING_BRANCH,),
    own_versions=Path(__file__).parent / "migrations" / "versions",
    tables=MESSAGING_TABLES | ENDPOINT_TABLES | DELIVERY_TABLES,
)
