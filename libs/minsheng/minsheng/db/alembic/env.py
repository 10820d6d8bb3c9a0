"""Generic Alembic env: the process's MigrationPlan arrives in config.attributes."""

from alembic import context
from sqlalchemy import create_engine, pool

from minsheng.db.migrations import include_object_for

config = context.config
plan = config.attributes["plan"]


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=plan.target_metadata(),
            include_object=include_object_for(plan),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
