"""The notifier's migration plan: the kernel's messaging branch (processed events) and its own tables."""

from pathlib import Path

from minsheng.db.migrations import MigrationPlan
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES
from minsheng_notifier.facts.models import FACT_TABLES
from minsheng_notifier.messages.models import MESSAGE_TABLES
from minsheng_notifier.robots.models import ROBOT_TABLES
from minsheng_notifier.rules.models import RULES_TABLES

migration_plan = MigrationPlan(
    process="notifier",
    kernel_branches=(MESSAGING_BRANCH,),
    own_versions=Path(__file__).parent / "migrations" / "versions",
    tables=MESSAGING_TABLES | RULES_TABLES | MESSAGE_TABLES | FACT_TABLES | ROBOT_TABLES,
)
