"""What makes a campaign service: settings with the campaign's env prefix, its catalog file,
its migration plan, and the kernel's routers.  Each service's `main.py` is one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from minsheng.app import create_app
from minsheng.auth.settings import TokenVerificationSettings
from minsheng.catalog.document import CampaignDoc
from minsheng.catalog.loader import read_catalog_file, seed_catalog
from minsheng.catalog.models import CATALOG_TABLES
from minsheng.catalog.router import catalog_document_router
from minsheng.catalog.router import router as catalog_router
from minsheng.catalog.versions import CATALOG_FILE, record_version
from minsheng.db.migrations import MigrationPlan
from minsheng.evidence import service as evidence
from minsheng.evidence.models import EVIDENCE_TABLES
from minsheng.evidence.router import router as evidence_router
from minsheng.evidence.router import upload_router as evidence_upload_router
from minsheng.evidence.settings import EvidenceSettings
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES
from minsheng.messaging.relay_process import run_relay_process
from minsheng.plans import CampaignPlans, make_slot, open_plans, plan_router, plans_router
from minsheng.progress.router import campaign_progress_router
from minsheng.progress.router import router as progress_router
from minsheng.quality.models import QUALITY_TABLES
from minsheng.quality.router import router as quality_router
from minsheng.reporting.models import REPORTING_TABLES
from minsheng.reporting.republish import publish_catalog
from minsheng.reporting.review import REPORTS_REVIEWED
from minsheng.reporting.router import events_router
from minsheng.reporting.router import router as reporting_router
from minsheng.settings import ProcessSettings
from minsheng.topology import CAMPAIGNS
from minsheng.uploads import start_parser_server

CAMPAIGN_TABLES = CATALOG_TABLES | REPORTING_TABLES | MESSAGING_TABLES | EVIDENCE_TABLES | QUALITY_TABLES
# "auth" only drops the token table the services once had (callers are the gateway's business now).
CAMPAIGN_BRANCHES = ("catalog", "auth", "reporting", MESSAGING_BRANCH)


class CampaignSettings(EvidenceSettings, TokenVerificationSettings, ProcessSettings):
    """Read from the environment with the campaign's prefix, e.g. EDUCATION_DATABASE_URL."""


def campaign_settings(campaign: str) -> CampaignSettings:
    process = CAMPAIGNS[campaign]
    # Defaults as class attributes: init arguments would override the environment.
    settings_class = type(
        f"{campaign.capitalize()}Settings",
        (CampaignSettings,),
        {
            "__annotations__": {"port": int, "database_url": str, "evidence_bucket": str},
            "port": process.port,
            "database_url": process.default_database_url,
            # The campaign's own bucket, as it has its own database.
            "evidence_bucket": f"minsheng-{campaign}",
            "model_config": SettingsConfigDict(env_prefix=process.env_prefix, extra="ignore"),
        },
    )
    return settings_class()


def start_upload_parsers(app: FastAPI) -> None:
    start_parser_server()  # the process that parses uploads (minsheng.uploads): ready before the first


# The campaign's bucket of the object store and the limits of its files (saved with a 报告, per plan).
open_evidence_store = evidence.store_opener()


@dataclass
class CampaignService:
    campaign: str
    package_dir: Path  # the service's package: holds catalog.yaml and migrations/versions

    def __post_init__(self) -> None:
        self.settings = campaign_settings(self.campaign)
        self.catalog: CampaignDoc = read_catalog_file(self.package_dir / "catalog.yaml")
        if self.catalog.code != self.campaign:
            raise ValueError(f"{self.package_dir}/catalog.yaml is the catalog of {self.catalog.code}")
        self.migration_plan = MigrationPlan(
            process=self.campaign,
            kernel_branches=CAMPAIGN_BRANCHES,
            own_versions=self.package_dir / "migrations" / "versions",
            tables=CAMPAIGN_TABLES,
        )

    def seed(self, app: FastAPI) -> None:
        with app.state.database.session() as session:
            changes = seed_catalog(session=session, doc=self.catalog, catalog=app.state.catalog)
            if changes.changed:  # the catalog file changed since the last start: a version of the legacy plan's
                record_version(session, doc=self.catalog, changes=changes, by=CATALOG_FILE)
            # Announce the catalog at every start: consumers apply it idempotently.
            publish_catalog(session=session, campaign=self.campaign)
            session.commit()
            app.state.catalog.snapshot(session)  # loaded now, so no request ever waits for it

    def make_writers(self, app: FastAPI) -> None:
        """The plans of the service (`minsheng.plans`): the legacy plan's writers, what they keep between requests
        (period locks, task states, report ids drawn ahead), and the plans published beside it, each in its schema.
        The legacy plan's are also the app's own (`app.state.submission_writer` …), as before plans were data."""
        legacy = make_slot(app, self.catalog.plan.code, app.state.database, app.state.catalog)
        for name in ("period_locks", "task_states", "revisions", "approvals", "submission_writer", "approval_writer"):
            setattr(app.state, name, getattr(legacy, name))
        app.state.plans = CampaignPlans(legacy)
        open_plans(app)
        for decision in ("approved", "returned"):
            REPORTS_REVIEWED.labels(self.campaign, decision)  # exported at 0 from the start: rate() works

    @staticmethod
    async def run_writers(app: FastAPI) -> None:
        await app.state.plans.run()

    def create_app(self, settings: CampaignSettings | None = None) -> FastAPI:
        return create_app(
            process=self.campaign,
            title=f"{self.catalog.title} · {self.catalog.name}",
            description=f"《{self.catalog.plan.name}》{self.catalog.name}：任务、指标与进展。",
            settings=settings or self.settings,
            migration_plan=self.migration_plan,
            routers=[
                # Every plan-dependent route takes ?plan= (decision 0017); the plans themselves are not of a plan.
                # Reporting first: FastAPI matches a request against the routes in order, a few µs each, and a
                # submission is the busiest request a service answers (benchmark (a), docs/performance.md).
                plan_router(
                    reporting_router,
                    catalog_router,
                    catalog_document_router(self.campaign),
                    progress_router,
                    campaign_progress_router(self.campaign),
                    events_router(self.campaign),
                    evidence_upload_router,
                    evidence_router,
                    quality_router,
                ),
                plans_router(self.campaign),
            ],
            startup=[open_evidence_store, self.seed, self.make_writers, start_upload_parsers],
            background=[self.run_writers, run_relay_process, evidence.upkeep],
        )
