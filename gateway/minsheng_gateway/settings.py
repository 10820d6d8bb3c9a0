from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from minsheng.evidence.settings import EvidenceSettings
from minsheng.reporting.calendar import ReportingCalendar
from minsheng.settings import ProcessSettings
from minsheng.topology import CAMPAIGNS, GATEWAY, NOTIFIER, WEBHOOKS
from minsheng_gateway.identity.settings import IdentitySettings


class GatewaySettings(EvidenceSettings, IdentitySettings, ProcessSettings):
    """Read from GATEWAY_* variables, e.g. GATEWAY_EDUCATION_URL."""

    model_config = SettingsConfigDict(env_prefix=GATEWAY.env_prefix, extra="ignore")

    port: int = GATEWAY.port
    # The 佐证材料 of 督办单 answers: the gateway's own bucket (GATEWAY_OBJECT_STORE_URL …, GATEWAY_EVIDENCE_BUCKET),
    # as each campaign service has its own (decision 0019).
    evidence_bucket: str = "minsheng-gateway"
    database_url: str = GATEWAY.default_database_url
    # Where each campaign service answers (its catalog is pulled from there).
    education_url: str = f"http://127.0.0.1:{CAMPAIGNS['education'].port}"
    health_url: str = f"http://127.0.0.1:{CAMPAIGNS['health'].port}"
    eldercare_url: str = f"http://127.0.0.1:{CAMPAIGNS['eldercare'].port}"
    employment_url: str = f"http://127.0.0.1:{CAMPAIGNS['employment'].port}"
    livability_url: str = f"http://127.0.0.1:{CAMPAIGNS['livability'].port}"
    # The notifier (decision 0021): its 消息中心 and 催办记录 are proxied at /api/v1/notifier/…; it reads who owes
    # what from /internal/notifier/… with this key (its NOTIFIER_GATEWAY_KEY).  Empty: those routes refuse.
    notifier_url: str = f"http://127.0.0.1:{NOTIFIER.port}"
    notifier_key: str = ""
    # The webhooks worker (decision 0023): its endpoints, delivery log and replays, proxied at /api/v1/webhooks/….
    webhooks_url: str = f"http://127.0.0.1:{WEBHOOKS.port}"
    # A service that is down is retried this often until its catalog arrives; then refreshed at the slower pace.
    catalog_retry_seconds: float = 2.0
    catalog_refresh_seconds: float = 300.0
    # How often the gateway looks for progress rows computed on an earlier day (`projection/refresher.py`): a
    # new day's rows are renewed within this long after midnight.
    progress_refresh_seconds: float = 60.0
    # How long before midnight (Beijing time) the refresher starts storing the next day's answers
    # beside today's, so that the new day's first summaries read them instead of computing them
    # (`projection/ahead.py`).
    progress_ahead_minutes: float = 60.0
    # No silent stall (`minsheng.messaging.consumer`): a consumer that should be receiving and is not is
    # replaced after this many seconds; a fold stalled this long makes /readyz answer 503 (a load balancer or
    # an orchestrator then prefers a replica that follows).  A broker that cannot be reached is no stall.
    consumer_stall_seconds: float = 20.0
    consumer_unready_seconds: float = 60.0
    # The reporting calendar (我的待办): a month or quarter is due by this day of the month after it ends
    # (GATEWAY_REPORT_DUE_DAY); a year by its own day of the following January, as a year's rates and
    # shares need the whole year's statistics.
    report_due_day: int = Field(default=10, ge=1, le=28)
    report_year_due_day: int = Field(default=31, ge=1, le=31)
    # 审核: a pending value that differs from the previous official value of its series by more than
    # this share of it is flagged as a jump (异常波动).
    review_jump_share: float = 0.3
    # 数据质量 (decision 0024): a value whose modified z-score against its history or the other districts passes
    # this is shown as an outlier.
    quality_outlier_threshold: float = Field(default=3.5, gt=0)
    # The built web app (工作台) served at `/` (`webapp.py`); the repository's `web/dist` unless deployed elsewhere.
    web_dist: Path = Path(__file__).resolve().parents[2] / "web" / "dist"
    # Rate limits (`rate_limits.py`; 0 turns one off): sign-in attempts per address and minute; writes
    # per caller (token or session) and per address, a sustained rate per second and a burst.
    rate_sign_in_per_minute: float = 30
    rate_writes_per_second: float = 20
    rate_writes_burst: float = 100
    rate_address_writes_per_second: float = 50
    rate_address_writes_burst: float = 300
    # The platform holds the demo dataset (`make run`; minsheng.demo): the app marks every page 演示数据.
    # Never in production.
    demo_data: bool = False
    # `make run` only: a file that exists while the runner loads the demo dataset; /readyz answers 503
    # (waiting for "demo_data") until it is gone, so "ready" means ready for people, data included.
    demo_data_loading: Path | None = None

    def reporting_calendar(self) -> ReportingCalendar:
        return ReportingCalendar(due_day=self.report_due_day, year_due_day=self.report_year_due_day)

    def service_url(self, campaign: str) -> str:
        return getattr(self, f"{campaign}_url").rstrip("/")
