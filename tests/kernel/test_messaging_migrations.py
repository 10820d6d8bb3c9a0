"""The kernel branch "messaging" builds outbox_event and processed_event from nothing, alone or beside
the catalog branch, and matches the models exactly."""

import pytest
from sqlalchemy import create_engine, inspect

from minsheng.catalog.models import CATALOG_TABLES
from minsheng.db.migrations import MigrationPlan, schema_differences, upgrade_to_head
from minsheng.messaging import CONSUMER_TABLES, MESSAGING_BRANCH, MESSAGING_TABLES, OUTBOX_TABLES


def plan(tmp_path, branches, tables) -> MigrationPlan:
    return MigrationPlan(
        process="messaging-test", kernel_branches=branches, own_versions=tmp_path / "versions", tables=tables
    )


@pytest.mark.parametrize(
    "tables", [OUTBOX_TABLES, CONSUMER_TABLES, MESSAGING_TABLES], ids=["producer", "consumer", "both"]
)
def test_messaging_branch_upgrades_postgres_with_no_autogenerate_difference(tables, tmp_path, make_database):
    url = make_database("messaging")
    messaging = plan(tmp_path, (MESSAGING_BRANCH,), tables)
    upgrade_to_head(messaging, url)
    upgrade_to_head(messaging, url)  # start-up runs it every time
    engine = create_engine(url)
    inspector = inspect(engine)
    assert MESSAGING_TABLES <= set(inspector.get_table_names())
    # The relay's claim walks the pending rows only, in id order (see OutboxEvent.__table_args__).
    pending = {ix["name"]: ix for ix in inspector.get_indexes("outbox_event")}["ix_outbox_event_pending"]
    assert pending["column_names"] == ["id"]
    assert pending["dialect_options"]["postgresql_where"] == "(published_at IS NULL)"
    engine.dispose()
    assert schema_differences(messaging, url) == []


def test_messaging_beside_catalog_on_postgres(tmp_path, make_database):
    url = make_database("service")
    service = plan(tmp_path, ("catalog", MESSAGING_BRANCH), CATALOG_TABLES | MESSAGING_TABLES)
    upgrade_to_head(service, url)
    assert schema_differences(service, url) == []
