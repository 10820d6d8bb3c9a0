"""The authenticated caller and the permission rules, as plain functions (testable without HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.auth.models import ROLE_LABELS, Role
from minsheng.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """Who calls, as the gateway's signed token says: the account's id and display name, role and scope."""

    account_id: int  # 0 for the platform's own jobs (e.g. the gateway's rebuild)
    name: str
    role: Role
    department: str | None = None
    org_unit: str | None = None
    indicators: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        """How changes are attributed in the history: display name, role and scope, and the account's id."""
        scope = self.department or self.org_unit or ""
        account = f"；账号 {self.account_id}" if self.account_id else ""
        return f"{self.name}（{ROLE_LABELS[self.role]}{'：' + scope if scope else ''}{account}）"


@dataclass(frozen=True)
class IndicatorScope:
    """What the permission rules need to know about an indicator."""

    code: str
    task_number: int | None
    lead_departments: tuple[str, ...]
    city_only: bool


def require_city_office(principal: Principal, action: str) -> None:
    if principal.role is not Role.city_office:
        raise Forbidden(f"{action}只能由市民生办办理；您的身份是{principal.label}", code="city_office_only")


def may_report(principal: Principal, indicator: IndicatorScope, org_unit: str, *, bulk: bool = False) -> bool:
    """Who may report what, the rule itself: may this caller write a value of `indicator` for `org_unit`
    (`bulk`: through the bulk interface)? `authorize_report` says why not; the gateway's inbox asks it too."""
    role = principal.role
    if role is Role.city_office:
        return True
    if role is Role.bureau:
        return principal.department in indicator.lead_departments
    if role is Role.district:
        return org_unit == principal.org_unit
    if role is Role.integration:
        return bulk and indicator.code in principal.indicators
    return False  # a viewer, or a role this rule does not know


def may_see_evidence(principal: Principal, indicator: IndicatorScope, org_unit: str) -> bool:
    """Who may see the 佐证材料 of a value: who may report it (the city office, the lead bureau of its task, the
    district for itself), except systems, which only write figures; a viewer sees none."""
    return principal.role is not Role.integration and may_report(principal, indicator, org_unit)


def authorize_report(principal: Principal, indicator: IndicatorScope, org_unit: str, *, bulk: bool = False) -> None:
    """May this caller write a value of `indicator` for `org_unit`? Raises Forbidden naming what is allowed."""
    if may_report(principal, indicator, org_unit, bulk=bulk):
        return
    role = principal.role
    if role is Role.viewer:
        raise Forbidden(f"{principal.label}只有查看权限，不能填报", code="read_only")
    if role is Role.bureau:
        owner = "、".join(indicator.lead_departments) or "市民生办"
        where = f"任务{indicator.task_number}" if indicator.task_number else "行动总目标"
        raise Forbidden(
            f"{principal.department}只能填报本部门牵头任务的指标；指标 {indicator.code} 属于{where}，"
            f"牵头部门为 {owner}",
            code="not_lead_department",
        )
    if role is Role.district:
        raise Forbidden(
            f"{principal.label}只能填报本单位（{principal.org_unit}）的数据，不能填报 {org_unit}",
            code="other_org_unit",
        )
    if role is Role.integration:
        if not bulk:
            raise Forbidden(
                f"{principal.label}只能通过批量接口（/api/v1/reports/bulk 或 /upload）写入",
                code="integration_bulk_only",
            )
        allowed = "、".join(sorted(principal.indicators)) or "无"
        raise Forbidden(
            f"{principal.label}只能写入指定指标（{allowed}），不含 {indicator.code}", code="indicator_not_granted"
        )
    raise Forbidden("未知身份", code="unknown_role")


def authorize_task_status(
    principal: Principal, task_number: int, lead_departments: tuple[str, ...], org_unit: str
) -> None:
    """Qualitative progress: the lead bureau for the city and districts, a district for itself."""
    scope = IndicatorScope(
        code=f"任务{task_number}", task_number=task_number, lead_departments=lead_departments, city_only=False
    )
    if principal.role is Role.integration:
        raise Forbidden(f"{principal.label}只能批量写入指定指标的数值，不能填报任务进展", code="integration_bulk_only")
    if principal.role is Role.bureau and principal.department not in lead_departments:
        raise Forbidden(
            f"{principal.department}只能填报本部门牵头的任务；任务 {task_number} 的牵头部门为 "
            f"{'、'.join(lead_departments)}",
            code="not_lead_department",
        )
    authorize_report(principal, scope, org_unit)
