"""The 任务分解表 on the gateway: the template from the current catalog (departments, districts, campaigns) and the
dry run of a filled copy (`minsheng.catalog.breakdown`, read through the upload guard). Nothing is written.  A workbook
of a plan already published is an amendment: its dry run compares each campaign's document with the gateway's copy of
that plan's catalog (`minsheng.catalog.loader.diff_catalogs`, what the services will report on applying it)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, replace

from fastapi import Request
from sqlalchemy import func
from sqlmodel import Session, select

from minsheng.auth.models import Role
from minsheng.catalog.breakdown import (
    COMPARATOR_LABELS,
    BreakdownResult,
    CampaignHeading,
    KnownIndicators,
    build_breakdown_template,
    campaign_counts,
    figure,
    parse_breakdown_upload,
)
from minsheng.catalog.document import CAMPAIGN_CODES, CampaignDoc, IndicatorDoc, PlanState
from minsheng.catalog.loader import diff_catalogs, stored_catalog
from minsheng.catalog.models import Campaign, Indicator, Task, TaskLeadDepartment
from minsheng.catalog.versions import CatalogDiff
from minsheng.errors import DomainError, Unprocessable
from minsheng.orgunits import CITY_CODE, ORG_UNITS, OrgUnitSeed
from minsheng.reporting.workbook import XlsxFile
from minsheng.uploads import UploadGuard
from minsheng_gateway.identity.deps import Caller
from minsheng_gateway.identity.models import Account
from minsheng_gateway.plans.breakdown_schemas import (
    BreakdownCampaign,
    BreakdownDryRun,
    BreakdownPlan,
    BreakdownPublication,
    BreakdownTaskPreview,
    CampaignPublication,
)
from minsheng_gateway.plans.scope import GatewayPlans, known_plans
from minsheng_gateway.plans.service import call_campaigns, detail_of, unreachable
from minsheng_gateway.projection.models import ReportView

PREVIEW_TASKS = 5


class CatalogsNotLoaded(DomainError):
    """The gateway has not yet learnt every campaign's catalog: the template's lists would be short."""

    status_code = 503
    code = "catalog_not_loaded"
    retry_after_seconds = 5


@dataclass(frozen=True)
class BreakdownContext:
    departments: list[str]
    districts: list[OrgUnitSeed]
    campaigns: list[CampaignHeading]
    known_indicators: KnownIndicators | None = None  # read for a dry run, not for the template


def breakdown_context(session: Session) -> BreakdownContext:
    """What a 任务分解表 may name: the departments leading a task of the current catalog (in the plan's order)
    and those with a bureau account, the districts and the five campaigns."""
    leads = session.exec(
        select(TaskLeadDepartment.department)
        .join(Task, Task.number == TaskLeadDepartment.task_number)
        .where(Task.retired == False)  # noqa: E712
        .order_by(TaskLeadDepartment.task_number, TaskLeadDepartment.position)
    )
    bureaus = session.exec(
        select(Account.department)
        .where(Account.role == Role.bureau, Account.disabled == False, Account.department.is_not(None))  # noqa: E712
        .order_by(Account.department)
    )
    campaigns = [
        CampaignHeading(code=c.code, number=c.number, name=c.name, title=c.title)
        for c in session.exec(select(Campaign).order_by(Campaign.number))
    ]
    missing = [code for code in CAMPAIGN_CODES if code not in {c.code for c in campaigns}]
    if missing:
        raise CatalogsNotLoaded(f"网关尚未取得 {'、'.join(missing)} 的目录，任务分解表的领域和部门清单不全，请稍后重试")
    return BreakdownContext(
        departments=list(dict.fromkeys([*leads, *bureaus])),
        districts=[unit for unit in ORG_UNITS if unit.code != CITY_CODE],
        campaigns=campaigns,
    )


def known_indicators(session: Session, plans: GatewayPlans) -> KnownIndicators:
    """The indicators a 接续指标 may name: every plan's in the registry (drafts aside), each read from its own
    tables, since codes repeat from plan to plan."""
    known = []
    for plan in known_plans(session):
        with plans.reading(plan.code) as (own, _):
            known.append((plan, frozenset(own.exec(select(Indicator.code)))))
    return KnownIndicators(plans=tuple(known))


def breakdown_template(*, session: Session, today: dt.date) -> XlsxFile:
    context = breakdown_context(session)
    content = build_breakdown_template(
        departments=context.departments, districts=context.districts, campaigns=context.campaigns, today=today
    )
    return XlsxFile(content=content, filename="任务分解表模板.xlsx", ascii_filename="minsheng-breakdown-template.xlsx")


def dry_run(
    *, session: Session, plans: GatewayPlans, guard: UploadGuard, filename: str, content: bytes
) -> BreakdownDryRun:
    """What publishing this workbook would create, and every error; nothing is created or stored. A workbook
    unusable as a whole (not .xlsx, header lost, too many rows, refused by the upload guard) is a 4xx whose
    `errors` list says so in the same shape."""
    result, context = read_breakdown(session=session, plans=plans, guard=guard, filename=filename, content=content)
    return _answer(result, context, amendments(session=session, plans=plans, result=result))


@dataclass(frozen=True)
class Amendment:
    """What publishing would change in one campaign of a published plan."""

    diff: CatalogDiff
    retired_reports: int  # reports of the indicators it would retire


def amendments(*, session: Session, plans: GatewayPlans, result: BreakdownResult) -> dict[str, Amendment] | None:
    """Per campaign, what the workbook changes in the plan as published (None: the plan is new).  The gateway's copy
    of each campaign's catalog in that plan is what the services last announced; a campaign given no tasks keeps its
    catalog (the services publish the plan alone to it)."""
    if not result.ok or result.plan is None:
        return None
    if result.plan.code not in {plan.code for plan in known_plans(session)}:
        return None
    plan = result.plan.model_copy(update={"state": PlanState.published})  # as `publish` sends it
    answers = {}
    with plans.reading(plan.code) as (own, _):
        for campaign in CAMPAIGN_CODES:
            new = result.campaigns.get(campaign)
            if new is None:
                answers[campaign] = Amendment(CatalogDiff.of([], [], []), 0)
                continue
            changes = diff_catalogs(stored_catalog(own, campaign), new.model_copy(update={"plan": plan}))
            retired = [label.removeprefix("indicator ") for label in changes.retired if label.startswith("indicator ")]
            reports = (
                own.exec(
                    select(func.count())
                    .select_from(ReportView)
                    .where(
                        ReportView.campaign == campaign,
                        ReportView.indicator_code.in_(retired),
                        ReportView.is_current == True,  # noqa: E712
                    )
                ).one()
                if retired
                else 0
            )
            answers[campaign] = Amendment(CatalogDiff.of_changes(changes), reports)
    return answers


def read_breakdown(
    *, session: Session, plans: GatewayPlans, guard: UploadGuard, filename: str, content: bytes
) -> tuple[BreakdownResult, BreakdownContext]:
    """The workbook read against the gateway's catalogs (the dry run's reading, and publishing's)."""
    context = breakdown_context(session)
    context = replace(context, known_indicators=known_indicators(session, plans))
    try:
        result: BreakdownResult = guard.read(
            filename,
            content,
            parse_breakdown_upload,
            context.departments,
            context.districts,
            context.campaigns,
            context.known_indicators,
        )
    except DomainError as exc:
        if exc.status_code >= 500 or "errors" in exc.extra:
            raise
        # The guard's refusal (a zip bomb, a damaged archive) in the dry run's shape.
        item = {"sheet": None, "row": None, "column": None, "column_name": None, "field": ""}
        raise type(exc)(
            exc.detail,
            code=exc.code,
            extra={**exc.extra, "errors": [{**item, "code": exc.code, "message": exc.detail}]},
        ) from exc
    if not result.usable:
        first = result.errors[0]
        raise Unprocessable(
            f"{first.message}。本次没有创建任何数据",
            code=first.code,
            extra={"errors": [e.model_dump() for e in result.errors]},
        )
    return result, context


async def publish(
    *, request: Request, caller: Caller, session: Session, guard: UploadGuard, filename: str, content: bytes
) -> BreakdownPublication:
    """Publish the workbook's plan: the dry run again (refused with its errors, nothing sent), then each campaign
    service gets its catalog of the plan (`POST /api/v1/plans`; a campaign without tasks gets the plan alone, so the
    plan exists in all five).  The services create it idempotently: a campaign that failed is completed by
    publishing the same workbook again; the gateway learns the plan from their `catalog.published` events."""
    result, context = await asyncio.to_thread(
        read_breakdown,
        session=session,
        plans=request.app.state.plans,
        guard=guard,
        filename=filename,
        content=content,
    )
    if not result.ok:
        dry = _answer(result, context)
        raise Unprocessable(
            f"任务分解表有 {len(dry.errors)} 处错误，未发布：{dry.errors[0].message}。请按试运行列出的错误修改后再发布",
            code="breakdown_invalid",
            extra={"errors": [e.model_dump() for e in dry.errors]},
        )
    plan = result.plan.model_copy(update={"state": PlanState.published})
    bodies = {
        campaign: {
            "plan": plan.model_dump(mode="json"),
            "campaign": doc.model_dump(mode="json") if (doc := result.campaigns.get(campaign)) else None,
        }
        for campaign in CAMPAIGN_CODES
    }
    answers = await call_campaigns(request, caller, "POST", "/api/v1/plans", bodies)
    campaigns = []
    for heading in context.campaigns:
        upstream = answers[heading.code]
        if upstream is not None and upstream.status_code in (200, 201):
            done = upstream.json()
            campaigns.append(
                CampaignPublication(
                    campaign=heading.code,
                    name=heading.name,
                    status_code=upstream.status_code,
                    created=done["created"],
                    changed=done["changed"],
                    tasks=done["tasks"],
                    indicators=done["indicators"],
                    version=done.get("version"),
                    diff=done.get("diff"),
                )
            )
        else:
            campaigns.append(
                CampaignPublication(
                    campaign=heading.code,
                    name=heading.name,
                    status_code=502 if upstream is None else upstream.status_code,
                    detail=unreachable(heading.code) if upstream is None else detail_of(upstream),
                )
            )
    published = all(c.detail is None for c in campaigns)
    return BreakdownPublication(
        code=plan.code,
        name=plan.name,
        published=published,
        summary=(
            f"已发布方案「{plan.name}」（{plan.span_label}）：五个行动共 {sum(c.tasks for c in campaigns)} 项任务、"
            f"{sum(c.indicators for c in campaigns)} 个指标"
            if published
            else f"方案「{plan.name}」尚未在 {'、'.join(c.name for c in campaigns if c.detail)} 发布成功，"
            "请稍后用同一份任务分解表再次发布（已发布的不会重复创建）"
        ),
        campaigns=campaigns,
    )


def _indicator_line(indicator: IndicatorDoc) -> str:
    comparator = COMPARATOR_LABELS[indicator.comparator][0]
    line = f"{indicator.code} {indicator.name} {comparator} {figure(indicator.target_value)}{indicator.unit}"
    return line + ("（须附佐证）" if indicator.evidence_required else "")


def _preview(doc: CampaignDoc) -> list[BreakdownTaskPreview]:
    preview = []
    for item in doc.items:
        for task in item.tasks:
            preview.append(
                BreakdownTaskPreview(
                    number=task.number,
                    title=task.title,
                    work_item=item.title,
                    lead_departments=list(task.lead_departments),
                    partner_departments=list(task.partner_departments),
                    indicators=[_indicator_line(i) for i in task.indicators],
                )
            )
            if len(preview) == PREVIEW_TASKS:
                return preview
    return preview


def _answer(
    result: BreakdownResult, context: BreakdownContext, amended: dict[str, Amendment] | None = None
) -> BreakdownDryRun:
    counts = {c.code: c for c in campaign_counts(result)}
    campaigns = []
    for heading in context.campaigns:
        doc = result.campaigns.get(heading.code)
        count = counts.get(heading.code)
        numbers = {
            key: getattr(count, key) if count else 0
            for key in (
                "work_items",
                "tasks",
                "indicators",
                "district_targets",
                "annual_targets",
                "quarterly_targets",
                "continued",
            )
        }
        amendment = amended.get(heading.code) if amended else None
        campaigns.append(
            BreakdownCampaign(
                code=heading.code,
                name=heading.name,
                **numbers,
                preview=_preview(doc) if doc is not None else [],
                amendment=amendment.diff if amendment else None,
                retired_reports=amendment.retired_reports if amendment else 0,
                warning=(
                    f"将停用的 {amendment.diff.retired} 项中，指标已有 {amendment.retired_reports} 份报送："
                    "停用后报送保留，但不再出现在清单、汇总和通报中"
                    if amendment and amendment.retired_reports
                    else None
                ),
            )
        )
    plan = result.plan
    ok = result.ok
    if ok and amended is not None:
        amounts = {key: sum(getattr(c.amendment, key) for c in campaigns) for key in ("created", "updated", "retired")}
        warned = sum(c.retired_reports for c in campaigns)
        summary = (
            f"试运行通过：方案「{plan.name}」已发布，发布即修订：新增 {amounts['created']} 项、"
            f"修改 {amounts['updated']} 项、停用 {amounts['retired']} 项"
            + (f"（停用的指标已有 {warned} 份报送）" if warned else "")
            + ("。" if any(amounts.values()) else "，与现行目录相同，发布不会形成新版本。")
            + "本次没有修改任何数据"
        )
    elif ok:
        totals = {key: sum(getattr(c, key) for c in campaigns) for key in ("work_items", "tasks", "indicators")}
        shares = sum(c.district_targets for c in campaigns)
        summary = (
            f"试运行通过：发布后将创建方案「{plan.name}」（{plan.span_label}），"
            f"{sum(1 for c in campaigns if c.tasks)} 个行动共 {totals['work_items']} 个工作事项、"
            f"{totals['tasks']} 项任务、{totals['indicators']} 个指标、{shares} 个区县分解目标。本次没有创建任何数据"
        )
    else:
        summary = f"发现 {len(result.errors)} 处错误，请按行号和列号逐一改正后重新上传。本次没有创建任何数据"
    return BreakdownDryRun(
        ok=ok,
        amends=amended is not None,
        summary=summary,
        plan=BreakdownPlan(
            code=plan.code,
            name=plan.name,
            document_number=plan.document_number,
            start_year=plan.first_year,
            end_year=plan.last_year,
            span_label=plan.span_label,
        )
        if plan
        else None,
        sheet=result.sheet,
        rows=result.rows,
        campaigns=campaigns,
        errors=result.errors,
        warnings=result.warnings,
    )
