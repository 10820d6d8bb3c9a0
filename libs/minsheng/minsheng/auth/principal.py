"""The authenticated caller and the permission rules, as plain functions (testable without HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.auth.models import ROLE_LABELS, Role
from minsheng.errors import Forbidden, Unprocessable
from minsheng.orgunits import CITY_CODE, districts_named


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
    partner_departments: tuple[str, ...] = ()  # only to say why a partner may not report the figures


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
    if role is Role.leader:
        raise Forbidden(LEADER_ONLY.format(label=principal.label), code="leader_read_only")
    if role is Role.bureau:
        owner = "、".join(indicator.lead_departments) or "市民生办"
        where = f"任务{indicator.task_number}" if indicator.task_number else "行动总目标"
        if principal.department in indicator.partner_departments:
            raise Forbidden(
                f"{principal.department}是任务{indicator.task_number}的协办单位，只能填报本部门承担部分的进展"
                f"（协办进展）；指标 {indicator.code} 的数据由主办单位 {owner} 填报",
                code=PARTNER_NOT_LEAD,
            )
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


PARTNER_NOT_LEAD = "partner_not_lead"
# 市领导 read everything and write only 批示 and 督办单 (the gateway's supervision package).
LEADER_ONLY = "{label}只能查看，以及作出批示、交办督办单；不能填报或审核"


@dataclass(frozen=True)
class TaskScope:
    """What the permission rules need to know about a task: its 主办 (lead) and 协办 (partner) departments."""

    number: int
    lead_departments: tuple[str, ...]
    partner_departments: tuple[str, ...] = ()

    @property
    def partner_districts(self) -> frozenset[str]:
        """The districts that partner the task (by name, or all through 各区县（功能区）)."""
        return districts_named(self.partner_departments)

    def indicator_scope(self) -> IndicatorScope:
        return IndicatorScope(
            code=f"任务{self.number}",
            task_number=self.number,
            lead_departments=self.lead_departments,
            city_only=False,
            partner_departments=self.partner_departments,
        )


@dataclass(frozen=True)
class TaskPart:
    """A partner's own part of a task (decision 0020): a partner department's for the city (`department` set), a
    partner district's for itself (its own task status, `department` None)."""

    org_unit: str
    department: str | None


def own_part(principal: Principal, task: TaskScope) -> TaskPart | None:
    """The part of `task` this person reports as its partner, or None when it partners it not: a bureau whose
    department partners it, for the city; a district the task names (or all of them), for itself."""
    if principal.role is Role.bureau and principal.department in task.partner_departments:
        return TaskPart(CITY_CODE, principal.department)
    if principal.role is Role.district and principal.org_unit in task.partner_districts:
        return TaskPart(principal.org_unit, None)
    return None


def authorize_task_status(
    principal: Principal, task: TaskScope, org_unit: str, partner_department: str | None = None
) -> None:
    """Qualitative progress.  The task as a whole: its lead bureau for the city and the districts, a district for
    itself (a district's report is always its own part).  A partner department's own part (`partner_department`):
    that department's bureau, for the city; the city office may file either."""
    if principal.role is Role.integration:
        raise Forbidden(f"{principal.label}只能批量写入指定指标的数值，不能填报任务进展", code="integration_bulk_only")
    if principal.role is Role.viewer:
        raise Forbidden(f"{principal.label}只有查看权限，不能填报", code="read_only")
    if principal.role is Role.leader:
        raise Forbidden(LEADER_ONLY.format(label=principal.label), code="leader_read_only")
    leads = "、".join(task.lead_departments)
    if partner_department is not None:
        _authorize_part(principal, task, org_unit, partner_department)
        return
    if principal.role is Role.bureau and principal.department not in task.lead_departments:
        if principal.department in task.partner_departments:
            raise Forbidden(
                f"{principal.department}是任务 {task.number} 的协办单位，只能填报本部门承担部分的进展（协办进展）；"
                f"任务整体进展由主办单位 {leads} 填报",
                code=PARTNER_NOT_LEAD,
            )
        raise Forbidden(
            f"{principal.department}只能填报本部门主办或协办的任务；任务 {task.number} 的主办单位为 {leads}"
            + (f"，协办单位为 {'、'.join(task.partner_departments)}" if task.partner_departments else ""),
            code="not_lead_department",
        )
    authorize_report(principal, task.indicator_scope(), org_unit)


def _authorize_part(principal: Principal, task: TaskScope, org_unit: str, department: str) -> None:
    partners = "、".join(task.partner_departments) or "无"
    role = principal.role
    if role is Role.district:
        raise Forbidden(
            f"区县只能按本单位（{principal.org_unit}）填报任务进展，不填协办部门：区县的协办进展就是本单位的任务进展",
            code="district_part_is_own_unit",
        )
    if role is Role.bureau and principal.department != department:
        if principal.department not in task.partner_departments:
            raise Forbidden(
                f"{principal.department}只能填报本部门协办任务的协办进展；任务 {task.number} 的协办单位为 {partners}",
                code="not_partner_department",
            )
        raise Forbidden(
            f"{principal.department}只能填报本部门承担部分的进展，不能代{department}填报", code="other_department"
        )
    a_district = bool(districts_named((department,)))  # districts report their part as their own unit's
    if department not in task.partner_departments or a_district:
        if role is Role.bureau:
            raise Forbidden(
                f"{principal.department}只能填报本部门协办任务的协办进展；任务 {task.number} 的协办单位为 {partners}",
                code="not_partner_department",
            )
        raise Unprocessable(
            f"「{department}」不是任务 {task.number} 的协办部门（协办单位：{partners}；区县的协办进展按本单位填报）",
            code="not_a_partner",
        )
    if org_unit != CITY_CODE:
        raise Unprocessable(
            f"部门承担部分的进展按全市填报：单位代码应为 {CITY_CODE}（淄博市），不是 {org_unit}",
            code="partner_part_for_city",
        )
