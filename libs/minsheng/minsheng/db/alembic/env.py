"""Generic Alembic env: the process's MigrationPlan arrives in config.attributes."""

from alembic import context
from sqlalchemy import create_engine, pool, text

from minsheng.db.engine import search_path_args
from minsheng.db.migrations import include_object_for

config = context.config
plan = config.attributes["plan"]


def run_migrations_online() -> None:
    # A plan's schema: every unqualified name of the revisions lands in it (decision 0017), and so does the version
    # table; the advisory lock keeps two replicas from creating the same plan at once.
    schema = plan.schema
    engine = create_engine(
        config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool, connect_args=search_path_args(schema)
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=plan.target_metadata(),
            include_object=include_object_for(plan),
            compare_type=True,
            version_table_schema=schema,
        )
        with context.begin_transaction():
            if schema:
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:schema))"), {"schema": schema})
            context.run_migrations()
    engine.dispose()


run_migrations_online()
