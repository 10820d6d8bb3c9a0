"""Each process's Alembic history builds its schema from nothing, and matches the models exactly."""

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.db.migrations import alembic_config, schema_differences, upgrade_to_head
from minsheng_gateway.migration_plan import migration_plan as gateway_plan
from minsheng_webhooks.migration_plan import migration_plan as webhooks_plan
from tests.conftest import campaign_module


def plans():
    return {
        **{c: campaign_module(c).migration_plan for c in CAMPAIGN_CODES},
        "gateway": gateway_plan,
        "webhooks": webhooks_plan,
    }


@pytest.mark.parametrize("process", [*CAMPAIGN_CODES, "gateway", "webhooks"])
def test_empty_postgres_upgrades_to_head_with_no_autogenerate_difference(process, make_database):
    plan = plans()[process]
    url = make_database(process)
    upgrade_to_head(plan, url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert plan.tables <= tables
    assert schema_differences(plan, url) == []


def test_upgrade_is_repeatable(make_database):
    plan = plans()["education"]
    url = make_database("again")
    upgrade_to_head(plan, url)
    upgrade_to_head(plan, url)  # start-up runs it every time: a second run must be a no-op
    assert schema_differences(plan, url) == []


def test_every_history_goes_down_to_nothing_and_up_again(make_database):
    """The downgrades run too (a bad one is found here, not by an operator rolling back a release)."""
    for process in ("education", "gateway", "webhooks"):
        plan = plans()[process]
        url = make_database(f"down_{process}")
        upgrade_to_head(plan, url)
        command.downgrade(alembic_config(plan, url), "base")
        engine = create_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade_to_head(plan, url)
        assert schema_differences(plan, url) == []


def test_a_plan_schema_gets_the_catalog_and_reporting_tables_and_leaves_public_alone(make_database):
    """Decision 0017: a further plan's tables in `plan_<code>`, made by the same branches, versioned inside it."""
    from minsheng.plans import PLAN_BRANCHES, PLAN_TABLES

    plan = plans()["education"]
    url = make_database("plan_schema")
    upgrade_to_head(plan, url)
    engine = create_engine(url)
    public = set(inspect(engine).get_table_names())
    schema_plan = plan.for_schema("plan_demo_2031", PLAN_BRANCHES, PLAN_TABLES)
    upgrade_to_head(schema_plan, url)
    upgrade_to_head(schema_plan, url)  # every start-up runs it again
    assert set(inspect(engine).get_table_names(schema="plan_demo_2031")) == PLAN_TABLES | {"alembic_version"}
    assert set(inspect(engine).get_table_names()) == public  # the outbox stays shared, nothing else moves in
    assert not {"outbox_event", "processed_event"} & set(inspect(engine).get_table_names(schema="plan_demo_2031"))
    engine.dispose()
    assert schema_differences(schema_plan, url) == []
