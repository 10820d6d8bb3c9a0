"""Demo accounts for the local run (`make run` sets GATEWAY_DEMO_USERS=true). Never enabled by default.

The gateway seeds them (`minsheng_gateway.identity.service.seed_demo_accounts`); docs/development.md, `make run`'s
banner and the web app's tests read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    department: str | None = None
    org_unit: str | None = None
    indicators: tuple[str, ...] = ()
    head: bool = False  # 负责人 of its department: escalations reach it (decision 0021)

    @property
    def email(self) -> str | None:
        """Where `make run` mails it (its SMTP server keeps every mail in var/mail); a system has none."""
        return None if self.role is Role.integration else f"{self.username}@example.gov.cn"

    def principal(self) -> Principal:
        """As a service sees it when tools sign its token themselves (tests, benchmarks): its id is its
        place in DEMO_ACCOUNTS, the order the gateway creates them in."""
        return Principal(
            account_id=DEMO_ACCOUNTS.index(self) + 1,
            name=self.display_name,
            role=self.role,
            department=self.department,
            org_unit=self.org_unit,
            indicators=frozenset(self.indicators),
        )


# Every demo account signs in with this password; it is printed by `make run` and is never valid
# anywhere the demo setting is off.
DEMO_PASSWORD = "minsheng-demo-2024"
# The integration demo account's API key (sent as `Authorization: Bearer <key>` to the gateway).
DEMO_API_KEY = "msk_demo_integration_key"

DEMO_ACCOUNTS = (
    DemoAccount("demo-city-office", "市民生办 演示用户", Role.city_office),
    DemoAccount("demo-education-bureau", "市教育局 演示用户", Role.bureau, department="市教育局", head=True),
    DemoAccount("demo-health-bureau", "市卫生健康委 演示用户", Role.bureau, department="市卫生健康委", head=True),
    DemoAccount("demo-civil-affairs-bureau", "市民政局 演示用户", Role.bureau, department="市民政局", head=True),
    DemoAccount(
        "demo-hrss-bureau", "市人力资源社会保障局 演示用户", Role.bureau, department="市人力资源社会保障局", head=True
    ),
    DemoAccount(
        "demo-housing-bureau", "市住房城乡建设局 演示用户", Role.bureau, department="市住房城乡建设局", head=True
    ),
    DemoAccount("demo-zhangdian", "张店区 演示用户", Role.district, org_unit="370303"),
    DemoAccount("demo-viewer", "只读 演示用户", Role.viewer),
    DemoAccount(
        "demo-integration", "就业监测系统 演示对接", Role.integration, indicators=("T076-1", "H-EMP-1", "H-EMP-2")
    ),
    # Last: the accounts before it keep their ids (`DemoAccount.principal`).
    DemoAccount("demo-leader", "市领导 演示用户", Role.leader),
)
DEMO_BY_USERNAME = {account.username: account for account in DEMO_ACCOUNTS}
