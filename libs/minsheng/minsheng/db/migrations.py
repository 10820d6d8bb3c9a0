"""Alembic, per process.

Every process has its own database and its own version history.  Tables that the
kernel defines (the catalog, and later reporting and the outbox) have their
migrations here in the kernel, one Alembic branch per module, so the five
services do not carry five copies of the same revision files.  A process's
`MigrationPlan` names the kernel branches it uses plus its own `versions/`
folder for tables only it has.  The Alembic env (`alembic/env.py`) is generic
and reads the plan from the config.

Create a revision for a process with `uv run minsheng-migrate <process> revision -m "..."`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine
from sqlmodel import SQLModel

from minsheng.db.engine import search_path_args

ALEMBIC_DIR = Path(__file__).with_name("alembic")
KERNEL_BRANCHES = ALEMBIC_DIR / "versions"


@dataclass(frozen=True)
class MigrationPlan:
    process: str
    kernel_branches: tuple[str, ...]  # e.g. ("catalog",)
    own_versions: Path  # the process's own versions folder (may be empty)
    tables: frozenset[str] = field(default_factory=frozenset)  # tables this process's database holds
    # A plan's schema (decision 0017): only the kernel branches named, run with `search_path = <schema>, public`,
    # their version table inside the schema.  None: the process's database as a whole (public).
    schema: str | None = None

    # The process's own revisions of what each plan has (the gateway's views): run in public (the legacy plan) and
    # in every plan's schema, while `own_versions` (the gateway's identity) runs in public only.
    plan_versions: Path | None = None

    @property
    def version_dirs(self) -> list[Path]:
        own = [] if self.schema else [self.own_versions]
        per_plan = [self.plan_versions] if self.plan_versions else []
        return [KERNEL_BRANCHES / branch for branch in self.kernel_branches] + own + per_plan

    def for_schema(self, schema: str, branches: tuple[str, ...], tables: frozenset[str]) -> MigrationPlan:
        """The same process's migrations of a plan's schema: `branches` (catalog, reporting) and their `tables`."""
        return dataclasses.replace(self, kernel_branches=branches, tables=tables, schema=schema)

    def target_metadata(self) -> MetaData:
        """Only this process's tables: other processes' models may be imported in the same interpreter."""
        metadata = MetaData()
        for name, table in SQLModel.metadata.tables.items():
            if name in self.tables:
                table.to_metadata(metadata)
        return metadata


def alembic_config(plan: MigrationPlan, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("version_locations", " ".join(str(d) for d in plan.version_dirs))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["plan"] = plan
    return config


def upgrade_to_head(plan: MigrationPlan, database_url: str) -> None:
    plan.own_versions.mkdir(parents=True, exist_ok=True)
    if plan.schema:
        _create_schema(plan.schema, database_url)
    command.upgrade(alembic_config(plan, database_url), "heads")


def _create_schema(schema: str, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        engine.dispose()


def schema_differences(plan: MigrationPlan, database_url: str) -> list:
    """What autogenerate would write for this database (or plan schema): empty when migrations match the models."""
    engine = create_engine(database_url, connect_args=search_path_args(plan.schema))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": include_object_for(plan), "compare_type": True},
            )
            return compare_metadata(context, plan.target_metadata())
    finally:
        engine.dispose()


def include_object_for(plan: MigrationPlan):
    def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ARG001
        if type_ == "table":
            return name in plan.tables
        return True

    return include_object


def main() -> None:
    """`minsheng-migrate PROCESS {upgrade|revision|current|heads} ...`"""
    parser = argparse.ArgumentParser(prog="minsheng-migrate")
    parser.add_argument("process", help="education, health, eldercare, employment, livability or gateway")
    parser.add_argument("action", choices=["upgrade", "revision", "current", "heads"])
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--branch", help="kernel branch to add the revision to (default: the process's own)")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    module = importlib.import_module(f"minsheng_{args.process}.main")
    plan: MigrationPlan = module.migration_plan
    url = args.database_url or module.settings.database_url
    config = alembic_config(plan, url)
    if args.action == "upgrade":
        upgrade_to_head(plan, url)
    elif args.action == "current":
        command.current(config, verbose=True)
    elif args.action == "heads":
        command.heads(config, verbose=True)
    else:
        if args.branch:
            command.revision(
                config,
                message=args.message,
                autogenerate=True,
                head=f"{args.branch}@head",
                version_path=str(KERNEL_BRANCHES / args.branch),
            )
        else:
            command.revision(
                config, message=args.message, autogenerate=True, head="heads", version_path=str(plan.own_versions)
            )
