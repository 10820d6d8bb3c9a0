"""Reporting endpoints. Thin: parse, call one service function, shape the answer. Never commit here."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from minsheng.auth.deps import PrincipalDep
from minsheng.auth.principal import require_city_office
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep, request_plan
from minsheng.pagination import Page, PageDep
from minsheng.params import (
    IndicatorFilter,
    OrgUnitFilter,
    OrgUnitQuery,
    PeriodFilter,
    PeriodPath,
    PeriodQuery,
    ReportId,
    TaskNumber,
    TaskNumberQuery,
)
from minsheng.reporting import (
    audit,
    implementation,
    locks,
    official,
    review,
    submissions,
    task_status,
    workbook,
)
from minsheng.reporting.files import XLSX_MEDIA_TYPE, parse_upload
from minsheng.reporting.implementation import TaskStatesDep
from minsheng.reporting.locks import PeriodLocksDep
from minsheng.reporting.models import ReportStatus
from minsheng.reporting.official import OfficialValue
from minsheng.reporting.republish import republish_state
from minsheng.reporting.review import ApprovalWriterDep
from minsheng.reporting.schemas import (
    ApproveRequest,
    BulkReportRequest,
    PeriodLockPublic,
    ReportCreate,
    ReportHistory,
    ReportPublic,
    ReportResubmit,
    ReturnRequest,
    TaskImplementationPublic,
    TaskStateChange,
    TaskStatusCreate,
    TaskStatusPublic,
)
from minsheng.reporting.submissions import RevisionWriterDep, SubmissionWriterDep
from minsheng.uploads import UploadGuardDep

router = APIRouter(prefix="/api/v1", tags=["填报 reporting"])
ERRORS = {
    401: {"description": "未登录或令牌无效"},
    403: {"description": "无权填报（说明允许的范围）"},
    409: {"description": "期间已锁定或状态不允许"},
    422: {"description": "数据有误（逐项说明）"},
}


@router.post(
    "/reports",
    response_model=ReportPublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="填报一个指标值（同一指标、单位、期间再次填报即为修订）",
)
async def create_report(
    request: Request,
    writer: SubmissionWriterDep,
    catalog: CatalogDep,
    principal: PrincipalDep,
    today: TodayDep,
    report_in: ReportCreate,
):
    # Async: the checks are in memory and the write is queued for the group-commit writer, so a
    # submission never waits for a thread of its own.
    with request_plan(request).database.session() as session:
        report, failures = await submissions.submit_report(
            writer=writer,
            session=session,
            catalog=catalog,
            policy=request.app.state.evidence_policy,
            report_in=report_in,
            principal=principal,
            today=today,
        )
        if report_in.evidence:
            [public] = await asyncio.to_thread(submissions.with_evidence, session, [report], {report.id: failures})
            return public
        return ReportPublic.model_validate(report).model_copy(update={"evidence": [], "quality": failures})


@router.post(
    "/reports/bulk",
    response_model=Page[ReportPublic],
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="批量填报：全部成功或全部不保存，逐行说明错误",
)
def create_reports(
    session: SessionDep, revisions: RevisionWriterDep, principal: PrincipalDep, today: TodayDep, bulk: BulkReportRequest
):
    reports, failures = submissions.submit_reports(
        session=session, revisions=revisions, rows=bulk.rows, principal=principal, today=today
    )
    return Page(data=submissions.with_evidence(session, reports, failures), count=len(reports))


@router.post(
    "/reports/upload",
    response_model=Page[ReportPublic],
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="上传 Excel（.xlsx）、CSV 或 JSON 文件批量填报（全部成功或全部不保存）",
)
def upload_reports(
    session: SessionDep,
    revisions: RevisionWriterDep,
    principal: PrincipalDep,
    today: TodayDep,
    guard: UploadGuardDep,
    file: Annotated[UploadFile, File(description="Excel 工作簿（.xlsx，如填好的模板）、CSV（UTF-8 或 GBK）或 JSON")],
):
    # Sync route: the guard's checks and its wait on the parsing child take a worker thread, not the loop.
    parsed = guard.read(file.filename or "", file.file.read(), parse_upload)
    reports, failures = submissions.submit_reports(
        session=session,
        revisions=revisions,
        rows=[row for _, row in parsed.rows],
        principal=principal,
        today=today,
        row_numbers=[n for n, _ in parsed.rows],
        parse_errors=parsed.errors,
        columns=parsed.columns,
    )
    return Page(data=submissions.with_evidence(session, reports, failures), count=len(reports))


@router.post(
    "/reports/approve",
    response_model=Page[ReportPublic],
    responses=ERRORS,
    summary="批量审核通过（市民生办）：全部通过或全部不通过，逐份说明不能通过的原因",
)
async def approve_many(request: Request, writer: ApprovalWriterDep, principal: PrincipalDep, body: ApproveRequest):
    reports = await review.approve_reports(
        writer=writer, campaign=request.app.state.process, report_ids=body.ids, principal=principal
    )
    return Page(data=[ReportPublic.model_validate(r) for r in reports], count=len(reports))


XLSX_RESPONSE = {200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "Excel 工作簿"}}


def _xlsx(file: workbook.XlsxFile) -> Response:
    return Response(
        content=file.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": file.content_disposition, "Cache-Control": "no-store"},
    )


@router.post(
    "/reports/upload/annotated",
    responses={**ERRORS, **XLSX_RESPONSE},
    summary="标注错误：同一 Excel 文件返回，出错单元格标红并加批注（不保存任何数据）；没有错误时答复 200 JSON",
)
def annotate_upload(
    session: SessionDep,
    catalog: CatalogDep,
    period_locks: PeriodLocksDep,
    task_states: TaskStatesDep,
    principal: PrincipalDep,
    today: TodayDep,
    guard: UploadGuardDep,
    file: Annotated[UploadFile, File(description="上传时被拒绝的 Excel 工作簿（.xlsx）")],
):
    marked = workbook.annotate_upload(
        session=session,
        catalog=catalog,
        principal=principal,
        today=today,
        locks=period_locks,
        task_states=task_states,
        guard=guard,
        filename=file.filename or "",
        content=file.file.read(),
    )
    if marked is None:
        return {"detail": "没有发现错误，可以直接上传", "errors": []}
    return _xlsx(marked)


@router.get(
    "/reports/template",
    response_class=Response,
    responses={**ERRORS, **XLSX_RESPONSE},
    summary="下载 Excel 填报模板：本人可填报的指标（该单位、该期间），已预填指标信息和上次审核通过值",
)
def download_template(
    session: SessionDep,
    catalog: CatalogDep,
    task_states: TaskStatesDep,
    principal: PrincipalDep,
    today: TodayDep,
    period: PeriodQuery,
    org_unit: OrgUnitQuery,
):
    return _xlsx(
        workbook.build_template(
            session=session,
            catalog=catalog,
            task_states=task_states,
            principal=principal,
            org_unit=org_unit,
            period=period,
            today=today,
        )
    )


@router.get("/reports", response_model=Page[ReportPublic], summary="报告列表（默认只列最新版本）")
def read_reports(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    indicator: IndicatorFilter = None,
    org_unit: OrgUnitFilter = None,
    period: PeriodFilter = None,
    status: ReportStatus | None = None,
    current_only: Annotated[bool, Query(description="false：包含被取代的旧版本")] = True,
):
    rows, count = submissions.list_reports(
        session=session,
        page=page,
        indicator=indicator,
        org_unit=org_unit,
        period=period,
        status=status,
        current_only=current_only,
    )
    return Page(data=submissions.with_evidence(session, rows), count=count)


@router.get("/reports/{report_id}", response_model=ReportPublic, summary="一份报告")
def read_report(session: SessionDep, principal: PrincipalDep, report_id: ReportId):
    [report] = submissions.with_evidence(session, [submissions.get_report(session=session, report_id=report_id)])
    return report


@router.get("/reports/{report_id}/history", response_model=ReportHistory, summary="修改记录：谁、何时、改了什么、原值")
def read_report_history(session: SessionDep, principal: PrincipalDep, report_id: ReportId):
    return submissions.report_history(session=session, report_id=report_id)


@router.post(
    "/reports/{report_id}/approve", response_model=ReportPublic, responses=ERRORS, summary="审核通过（市民生办）"
)
async def approve(request: Request, writer: ApprovalWriterDep, principal: PrincipalDep, report_id: ReportId):
    return ReportPublic.model_validate(
        await review.approve_report(
            writer=writer, campaign=request.app.state.process, report_id=report_id, principal=principal
        )
    )


@router.post(
    "/reports/{report_id}/return", response_model=ReportPublic, responses=ERRORS, summary="退回并说明原因（市民生办）"
)
def return_(
    request: Request,
    session: SessionDep,
    period_locks: PeriodLocksDep,
    principal: PrincipalDep,
    report_id: ReportId,
    body: ReturnRequest,
):
    return ReportPublic.model_validate(
        review.return_report(
            session=session,
            locks=period_locks,
            campaign=request.app.state.process,
            report_id=report_id,
            reason=body.reason,
            principal=principal,
        )
    )


@router.post(
    "/reports/{report_id}/resubmit",
    response_model=ReportPublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="修改后重新提交被退回的报告",
)
def resubmit(
    session: SessionDep,
    revisions: RevisionWriterDep,
    principal: PrincipalDep,
    today: TodayDep,
    report_id: ReportId,
    values: ReportResubmit,
):
    new = submissions.resubmit_report(
        session=session, revisions=revisions, report_id=report_id, values=values, principal=principal, today=today
    )
    [report] = submissions.with_evidence(session, [new])
    return report


@router.get("/periods/locks", response_model=list[PeriodLockPublic], summary="已锁定的期间")
def read_locks(session: SessionDep):
    return locks.list_locks(session=session)


@router.post(
    "/periods/{period}/lock",
    response_model=PeriodLockPublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="锁定期间：已审核数据不再修改（市民生办）",
)
def lock(session: SessionDep, period_locks: PeriodLocksDep, principal: PrincipalDep, period: PeriodPath):
    return locks.lock_period(session=session, locks=period_locks, period_code=period, principal=principal)


@router.delete(
    "/periods/{period}/lock", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS, summary="解锁期间（市民生办）"
)
def unlock(session: SessionDep, period_locks: PeriodLocksDep, principal: PrincipalDep, period: PeriodPath):
    locks.unlock_period(session=session, locks=period_locks, period_code=period, principal=principal)


@router.post(
    "/task-status",
    response_model=TaskStatusPublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="填报任务进展（定性：未启动/推进中/已完成/受阻，进展与问题）；协办单位填报本部门承担部分（协办进展）",
)
def create_task_status(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    period_locks: PeriodLocksDep,
    principal: PrincipalDep,
    today: TodayDep,
    status_in: TaskStatusCreate,
):
    row = task_status.report_task_status(
        session=session,
        catalog=catalog,
        locks=period_locks,
        policy=request.app.state.evidence_policy,
        status_in=status_in,
        principal=principal,
        today=today,
    )
    [public] = task_status.with_evidence(session, [row])
    return public


@router.get("/task-status", response_model=Page[TaskStatusPublic], summary="任务进展（最新版本）")
def read_task_statuses(
    session: SessionDep,
    page: PageDep,
    task: TaskNumberQuery = None,
    org_unit: OrgUnitFilter = None,
    parts: Annotated[
        bool | None, Query(description="true：只看协办单位填报的协办进展；false：只看任务整体和区县本单位的进展")
    ] = None,
):
    rows, count = task_status.list_task_statuses(session=session, page=page, task=task, org_unit=org_unit, parts=parts)
    return Page(data=task_status.with_evidence(session, rows), count=count)


@router.put(
    "/tasks/{number}/state",
    response_model=TaskImplementationPublic,
    responses={**ERRORS, 404: {"description": "任务不属于本行动"}},
    summary="调整任务实施状态（市民生办）：执行中、暂缓实施、已取消、待确定；后三者须说明原因，暂缓、取消的任务不再接受填报",
)
def set_task_state(
    session: SessionDep, task_states: TaskStatesDep, principal: PrincipalDep, number: TaskNumber, body: TaskStateChange
):
    return implementation.set_task_state(
        session=session, states=task_states, number=number, change=body, principal=principal
    )


@router.get(
    "/tasks/{number}/state",
    response_model=TaskImplementationPublic,
    responses={404: {"description": "任务不属于本行动"}},
    summary="任务实施状态及其变更记录（谁、何时、由何状态改为何状态、原因）",
)
def read_task_state(session: SessionDep, number: TaskNumber):
    return implementation.task_state(session=session, number=number)


@router.get(
    "/official-values",
    response_model=Page[OfficialValue],
    summary="已审核的正式数据（每个指标×单位×期间的最新审核版本），供一致性核对",
)
def read_official_values(session: SessionDep, page: PageDep, indicator: IndicatorFilter = None):
    rows, count = official.official_values(session=session, page=page, indicator=indicator)
    return Page(data=rows, count=count)


@router.get(
    "/audit/changes",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {XLSX_MEDIA_TYPE: {}, audit.CSV_MEDIA_TYPE: {}}, "description": "Excel 工作簿或 CSV 文件"},
    },
    summary="审计导出（市民生办）：某期间的全部修改记录（时间、操作人、操作、对象、原值、新值、说明），.xlsx 或 CSV",
)
def export_audit_changes(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    period: Annotated[str, Query(description="对象期间：月 2024-05，季 2024Q2，年 2024（含其各季、各月）")],
    format: Annotated[audit.AuditFormat, Query(description="xlsx 或 csv（UTF-8 带 BOM）")] = audit.AuditFormat.xlsx,
):
    file = audit.export_changes(
        session=session, principal=principal, campaign=request.app.state.process, period=period, format=format
    )
    if format is audit.AuditFormat.xlsx:
        return _xlsx(file)
    return Response(
        content=file.content,
        media_type=audit.CSV_MEDIA_TYPE,
        headers={"Content-Disposition": file.content_disposition, "Cache-Control": "no-store"},
    )


def events_router(campaign: str) -> APIRouter:
    admin = APIRouter(prefix="/api/v1", tags=["事件 events"])

    @admin.post("/events/republish", summary="重新发布本服务的当前状态（每个指标×单位一条快照事件），用于重建网关视图")
    def republish(session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
        require_city_office(principal, "重新发布事件")
        return republish_state(session=session, campaign=campaign)

    return admin
