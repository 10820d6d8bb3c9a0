"""The gateway: city-wide and per-district views over the five campaign services.
Run: python -m minsheng.serve minsheng_gateway.main:app"""

from fastapi import APIRouter, FastAPI
from starlette.middleware import Middleware

from minsheng.app import create_app
from minsheng.catalog.router import router as catalog_router
from minsheng.evidence import service as evidence
from minsheng.messaging.relay_process import run_relay_process
from minsheng_gateway.asyncapi_router import router as asyncapi_router
from minsheng_gateway.bulletin.router import router as bulletin_router
from minsheng_gateway.catalog_sync import missing_catalogs, sync_catalogs
from minsheng_gateway.completeness.router import router as completeness_router
from minsheng_gateway.consistency import router as consistency_router
from minsheng_gateway.drill.router import router as drill_router
from minsheng_gateway.entry.router import router as entry_router
from minsheng_gateway.exchange.router import router as exchange_router
from minsheng_gateway.identity.router import routers as identity_routers
from minsheng_gateway.identity.service import seed_identity
from minsheng_gateway.identity.signing import SignedBodyDigest
from minsheng_gateway.inbox.router import router as inbox_router
from minsheng_gateway.metrics import export_review_backlog
from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.notifications.router import internal_router as notifier_feed_router
from minsheng_gateway.notifications.router import router as notifier_router
from minsheng_gateway.plans.breakdown_router import router as breakdown_router
from minsheng_gateway.plans.router import router as plans_router
from minsheng_gateway.plans.scope import PLAN_SELECTED, open_plans, plans_lifecycle
from minsheng_gateway.platform.router import demo_data_loading
from minsheng_gateway.platform.router import router as platform_router
from minsheng_gateway.projection.consumer import consume_events, stalled_fold
from minsheng_gateway.projection.refresher import refresh_stale_progress
from minsheng_gateway.proxy import proxy_client_lifecycle
from minsheng_gateway.proxy import router as proxy_router
from minsheng_gateway.quality.router import router as quality_router
from minsheng_gateway.rate_limits import Rate, RateLimiter, RateLimits, rate_limited
from minsheng_gateway.review.router import router as review_router
from minsheng_gateway.settings import GatewaySettings
from minsheng_gateway.stream.router import router as stream_router
from minsheng_gateway.stream.service import ViewsBroadcaster
from minsheng_gateway.summaries.router import router as summaries_router
from minsheng_gateway.supervision.evidence import SAVED_WITH
from minsheng_gateway.supervision.router import router as supervision_router
from minsheng_gateway.supervision.router import upload_router as supervision_upload_router
from minsheng_gateway.valuesets.router import router as value_sets_router
from minsheng_gateway.warnings.router import router as warnings_router
from minsheng_gateway.webapp import router as webapp_router
from minsheng_gateway.webhooks import router as webhooks_router

settings = GatewaySettings()

# The kernel's catalog routes, of the plan a request names (`?plan=`, decision 0017).
plan_catalog_router = APIRouter(dependencies=PLAN_SELECTED)
plan_catalog_router.include_router(catalog_router)


def build_app(gateway_settings: GatewaySettings = settings) -> FastAPI:
    limiter = RateLimiter()
    limits = Middleware(
        RateLimits,
        limiter=limiter,
        sign_in=Rate(gateway_settings.rate_sign_in_per_minute / 60, gateway_settings.rate_sign_in_per_minute),
        writes_by_caller=Rate(gateway_settings.rate_writes_per_second, gateway_settings.rate_writes_burst),
        writes_by_address=Rate(
            gateway_settings.rate_address_writes_per_second, gateway_settings.rate_address_writes_burst
        ),
    )
    gateway = create_app(
        process="gateway",
        title="淄博市高品质民生三年行动 · 网关",
        description="全市与各区县视图：五大攻坚行动的113项任务、指标与进展。",
        settings=gateway_settings,
        migration_plan=migration_plan,
        # The read side's screens come first: their /indicators/{code}/progress and /tasks/{number}/progress
        # are computed from the gateway's read models.
        # The web app last: it answers only what no other route matched.
        routers=[
            summaries_router,
            drill_router,
            warnings_router,
            entry_router,
            completeness_router,
            plan_catalog_router,
            consistency_router,
            asyncapi_router,
            *identity_routers,
            inbox_router,
            review_router,
            quality_router,
            # Before /api/v1/plans/{code} (plans/router.py): breakdown-template is not a plan's code.
            breakdown_router,
            stream_router,
            platform_router,
            plans_router,
            bulletin_router,
            exchange_router,
            value_sets_router,
            supervision_upload_router,
            supervision_router,
            notifier_feed_router,
            notifier_router,
            webhooks_router,
            proxy_router,
            webapp_router,
        ],
        # The 督办单's 佐证材料 (decision 0022): the gateway's own bucket; their rows in its public schema only.
        startup=[open_plans, seed_identity, evidence.store_opener(saved_with=SAVED_WITH, per_plan=False)],
        background=[
            plans_lifecycle,
            sync_catalogs,
            consume_events,
            refresh_stale_progress,
            proxy_client_lifecycle,
            export_review_backlog,
            # The gateway's own events (督办单, decision 0022): published from its outbox like a service's.
            run_relay_process,
            evidence.upkeep,
        ],
        # A signed request's body digest is taken before anything reads the body (identity/signing.py).
        middleware=[limits, Middleware(SignedBodyDigest)],
        rate_limited=rate_limited,
    )
    gateway.state.catalogs_loaded = set()
    gateway.state.catalog_missing_since = {}  # campaign → when its catalog was first found unavailable
    gateway.state.readiness_checks.extend([missing_catalogs, stalled_fold, demo_data_loading])
    gateway.state.rate_limiter = limiter
    gateway.state.views_changes = ViewsBroadcaster()
    return gateway


app = build_app()
