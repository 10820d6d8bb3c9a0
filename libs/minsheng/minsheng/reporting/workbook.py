"""Excel workbooks for reporting: the template a clerk fills (their scope for an org unit and a period,
pre-filled), and the same workbook given back with the cells an upload refused marked red and commented.

The template's sheet 填报 has the header of the upload (`files.COLUMN_NAMES`), so the filled template is
read by the same parser as any workbook; the upload's own check (`submissions.check_reports`) decides
what is wrong, here and when it is saved.  The sheets are protected without a password: only the input
cells are unlocked (the instructions say how to lift the protection), so that a clerk does not overwrite
an indicator's id or name by mistake.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, authorize_report
from minsheng.catalog.document import Aggregation, IndicatorKind, PlanDoc
from minsheng.catalog.models import Campaign, DistrictTarget, Indicator, OrgUnit, Task
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import Forbidden, NotFound, Unprocessable
from minsheng.orgunits import CITY_CODE
from minsheng.progress.periods import Period, parse_plan_period, period_examples
from minsheng.reporting.files import DATA_SHEET, data_sheet, load_workbook, parse_upload
from minsheng.reporting.implementation import TaskStates
from minsheng.reporting.locks import PeriodLocks
from minsheng.reporting.official import OfficialValue, latest_approved_before
from minsheng.reporting.schemas import RowError
from minsheng.reporting.submissions import check_reports
from minsheng.reporting.validation import ReportContext, reportable_at
from minsheng.uploads import UploadGuard, UploadLimits

INSTRUCTIONS_SHEET = "填报说明"
OPTIONS_SHEET = "选项"
ERRORS_SHEET = "错误清单"

# The template's columns: (field or None for a read-only fact, header, width). Headers of input columns
# are names the upload's parser knows; the others are not, so it passes them by.
COLUMNS = (
    ("indicator", "指标编号", 11),
    (None, "任务", 30),
    (None, "指标名称", 36),
    (None, "计量单位", 9),
    (None, "目标", 20),
    (None, "上次审核通过值", 14),
    (None, "上次审核期间", 12),
    ("org_unit", "单位代码", 16),
    ("period", "期间", 10),
    ("value", "数值", 12),
    ("numerator", "分子", 12),
    ("denominator", "分母", 12),
    ("note", "说明", 30),
)
WRITABLE = ("org_unit", "period", "value", "note")
RATIO_FIELDS = ("numerator", "denominator")  # writable for ratio indicators only
LETTERS = {header: get_column_letter(i) for i, (_, header, _) in enumerate(COLUMNS, start=1)}

HEADER_FILL = PatternFill("solid", fgColor="FF1F2D3D")
LOCKED_FILL = PatternFill("solid", fgColor="FFF2F2F2")
ERROR_FILL = PatternFill("solid", fgColor="FFFF0000")
ERROR_FONT = Font(bold=True, color="FFFFFFFF")
UNLOCKED = Protection(locked=False)
KIND_LABELS = {
    IndicatorKind.cumulative: "填本期完成数（平台累计）",
    IndicatorKind.yearly: "填本期完成数（按年累计）",
    IndicatorKind.level: "填期末水平",
    IndicatorKind.one_year: "填本期完成数",
}


@dataclass(frozen=True)
class XlsxFile:
    content: bytes
    filename: str  # in Chinese; `content_disposition` gives an ASCII fallback too
    ascii_filename: str

    @property
    def content_disposition(self) -> str:
        return f"attachment; filename=\"{self.ascii_filename}\"; filename*=UTF-8''{quote(self.filename)}"


def _natural(code: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in code.replace("-", " ").split())


def scope_indicators(ctx: ReportContext, principal: Principal, org_unit: str) -> list[str]:
    """The indicators this principal may write for `org_unit` (the permission rules decide; the first
    refusal is raised when none is allowed, so the answer says what is allowed)."""
    allowed, refusal = [], None
    for indicator in ctx.catalog.indicators.values():
        if not reportable_at(indicator, org_unit) or ctx.task_refusal(indicator) is not None:
            continue  # nothing to report there (a city-only indicator; a task suspended or cancelled)
        try:
            authorize_report(principal, ctx.scope(indicator), org_unit, bulk=True)
        except Forbidden as exc:
            refusal = refusal or exc
            continue
        allowed.append(indicator.code)
    if not allowed and refusal is not None:
        raise refusal
    return allowed


def open_periods(plan: PlanDoc, today: dt.date) -> list[str]:
    """The plan's periods that have begun, newest first (the template's drop-down)."""
    codes = []
    for year in reversed(plan.years):
        codes += [f"{year}-{month:02d}" for month in range(12, 0, -1)]
        codes += [f"{year}Q{quarter}" for quarter in range(4, 0, -1)]
        codes.append(str(year))
    return [code for code in codes if parse_plan_period(code, today, plan=plan)[1] is None]


def _target(indicator: Indicator, own: float | None) -> str:
    value = own if own is not None else indicator.target_value
    whose = "" if own is None else "本单位"
    return f"{whose}{indicator.comparator.value} {value:g}{indicator.unit}（{indicator.horizon}年）"


def build_template(
    *,
    session: Session,
    catalog: CatalogCache,
    task_states: TaskStates,
    principal: Principal,
    org_unit: str,
    period: str,
    today: dt.date,
) -> XlsxFile:
    """The template for `principal`'s indicators of `org_unit` in `period`, pre-filled."""
    plan = catalog.snapshot(session).plan
    checked_period, code, message = parse_plan_period(period, today, plan=plan)
    if code:
        raise Unprocessable(message, code=code)
    unit = session.get(OrgUnit, org_unit)
    if unit is None:
        raise NotFound(
            f"单位代码「{org_unit}」不存在：全市 370300，各区县见 /api/v1/org-units", code="unknown_org_unit"
        )
    ctx = ReportContext(session, today, catalog.snapshot(session), task_states=task_states)
    codes = scope_indicators(ctx, principal, org_unit)
    indicators = sorted(
        session.exec(select(Indicator).where(Indicator.code.in_(codes))),
        key=lambda i: (i.task_number or 0, i.position, _natural(i.code)),
    )
    tasks = {t.number: t for t in session.exec(select(Task))}
    campaign = session.exec(select(Campaign)).first()
    campaign_name = campaign.name if campaign else ""
    own_targets = _own_targets(session, org_unit)
    last = latest_approved_before(session=session, org_unit=org_unit, before=checked_period.start, indicators=codes)
    units = session.exec(select(OrgUnit).order_by(OrgUnit.code)).all()
    unit_options = [f"{u.code} {u.name}" for u in units if _writes_for(ctx, principal, u.code)]
    period_options = open_periods(plan, today)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    _write_header(sheet)
    for row, indicator in enumerate(indicators, start=2):
        task = tasks.get(indicator.task_number) if indicator.task_number else None
        values = _row_values(
            indicator,
            task,
            previous=last.get(indicator.code),
            own_target=own_targets.get(indicator.code),
            unit=unit,
            period=checked_period,
        )
        _write_row(sheet, row, values, ratio=indicator.aggregation is Aggregation.ratio)
    last_row = max(len(indicators) + 1, 2)
    _add_drop_downs(workbook, sheet, unit_options, period_options, plan, last_row)

    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widths may be changed; cells stay locked
    sheet.protection.formatRows = False
    _instructions(workbook, campaign_name, plan, unit, checked_period, principal, today, len(indicators))
    workbook.active = 0
    workbook.security = WorkbookProtection(lockStructure=True)  # the option lists stay hidden and in place

    name = f"{campaign_name}填报模板_{unit.name}_{checked_period.code}.xlsx"
    ascii_name = f"minsheng-template-{campaign.code if campaign else 'campaign'}-{unit.code}-{checked_period.code}.xlsx"
    return XlsxFile(content=_save(workbook), filename=name, ascii_filename=ascii_name)


def _own_targets(session: Session, org_unit: str) -> dict[str, float]:
    """A district's own targets by indicator; the city has none of its own (its target is the indicator's)."""
    if org_unit == CITY_CODE:
        return {}
    return {
        t.indicator_code: t.target_value
        for t in session.exec(select(DistrictTarget).where(DistrictTarget.org_unit_code == org_unit))
    }


def _write_header(sheet: Worksheet) -> None:
    for index, (_, header, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True, color="FFFFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _row_values(
    indicator: Indicator,
    task: Task | None,
    *,
    previous: OfficialValue | None,
    own_target: float | None,
    unit: OrgUnit,
    period: Period,
) -> dict[str, object]:
    """An indicator's row pre-filled, by header: what it is, its target, its last approved value, and the
    org unit and period the template is for."""
    return {
        "指标编号": indicator.code,
        "任务": f"任务{task.number} {task.title}" if task else "行动总体目标",
        # A workbook row carries no files: a value requiring evidence is entered in 数据填报 (validation.py refuses it).
        "指标名称": f"{indicator.name}（{KIND_LABELS[indicator.kind]}"
        + ("；须附佐证，请在「数据填报」页面填报并上传）" if indicator.evidence_required else "）"),
        "计量单位": indicator.unit,
        "目标": _target(indicator, own_target),
        "上次审核通过值": previous.value if previous else None,
        "上次审核期间": previous.period if previous else None,
        "单位代码": f"{unit.code} {unit.name}",
        "期间": period.code,
    }


def _write_row(sheet: Worksheet, row: int, values: dict[str, object], *, ratio: bool) -> None:
    """One indicator's row: the input cells unlocked, every other cell locked and grey."""
    for index, (field, header, _) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=row, column=index, value=values.get(header))
        writable = field in WRITABLE or ratio and field in RATIO_FIELDS
        if writable:
            cell.protection = UNLOCKED
            cell.number_format = "@" if field in ("org_unit", "period", "note") else "General"
        else:
            cell.fill = LOCKED_FILL


def _add_drop_downs(
    workbook: Workbook,
    sheet: Worksheet,
    unit_options: list[str],
    period_options: list[str],
    plan: PlanDoc,
    last_row: int,
) -> None:
    """The drop-downs of 单位代码 and 期间, their lists on a hidden sheet of their own."""
    options = workbook.create_sheet(OPTIONS_SHEET)
    options.append(["单位", "期间"])
    for index in range(max(len(unit_options), len(period_options))):
        options.append(
            [
                unit_options[index] if index < len(unit_options) else None,
                period_options[index] if index < len(period_options) else None,
            ]
        )
    options.sheet_state = "hidden"
    for header, column, count, title in (
        ("单位代码", "A", len(unit_options), "请从下拉列表中选择单位"),
        ("期间", "B", len(period_options), f"请从下拉列表中选择期间：{period_examples(plan)}"),
    ):
        validation = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${column}$2:${column}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"{header}不在可选范围内",
            error=title,
        )
        sheet.add_data_validation(validation)
        validation.add(f"{LETTERS[header]}2:{LETTERS[header]}{last_row}")


def _writes_for(ctx: ReportContext, principal: Principal, org_unit: str) -> bool:
    try:
        return bool(scope_indicators(ctx, principal, org_unit))
    except Forbidden:
        return False


def _instructions(
    workbook: Workbook,
    campaign_name: str,
    plan: PlanDoc,
    unit: OrgUnit,
    period: Period,
    principal: Principal,
    today: dt.date,
    count: int,
) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET, 1)
    lines = [
        f"{campaign_name} · 指标填报模板",
        f"单位：{unit.name}（{unit.code}）　期间：{period.code}　指标：{count} 项",
        f"生成：{today:%Y-%m-%d}，{principal.label}",
        "",
        "1. 只在白色单元格填写：单位代码、期间、数值、分子、分母、说明；灰色单元格已锁定，无需修改。",
        "2. 不需要填报的指标整行留空即可：数值、分子、分母、说明都为空的行不上传。",
        "3. 累计类、年度类指标填本期（该月、季或年）完成数，平台自动累计；水平类指标填期末达到的水平。",
        "4. 比率类指标（分子、分母为白色）请填写分子和分母，数值可留空，由平台计算；百分比填 0–100 之间的数。",
        f"5. 单位代码和期间请从下拉列表中选择；期间格式：{period_examples(plan)}。",
        "6. 上传：工作台「Excel 导入」页面，或接口 POST /api/v1/campaigns/<行动>/reports/upload。"
        "全部正确才保存，有错误时一行也不保存。",
        "7. 有错误时可下载标注错误的工作簿：出错的单元格标红，批注写明原因；改正后可直接上传该工作簿。",
        "8. 「上次审核通过值」是本期之前最近一期已审核通过的数值，供核对。",
        "9. 工作表保护没有密码（审阅 → 撤销工作表保护）；请不要修改表头和指标编号。",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 110
    sheet.protection.sheet = True


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_errors(
    *,
    session: Session,
    catalog: CatalogCache,
    principal: Principal,
    today: dt.date,
    locks: PeriodLocks,
    task_states: TaskStates,
    guard: UploadGuard,
    filename: str,
    content: bytes,
) -> list[RowError]:
    """What the upload of this file would refuse, decided as the upload decides it."""
    parsed = guard.read(filename, content, parse_upload)
    _, errors, permission = check_reports(
        ctx=ReportContext(session, today, catalog.snapshot(session), locks=locks, task_states=task_states),
        rows=[row for _, row in parsed.rows],
        principal=principal,
        row_numbers=[n for n, _ in parsed.rows],
        parse_errors=parsed.errors,
        columns=parsed.columns,
    )
    return sorted(permission + errors, key=lambda e: e.row)


def annotate_upload(
    *,
    session: Session,
    catalog: CatalogCache,
    principal: Principal,
    today: dt.date,
    locks: PeriodLocks,
    task_states: TaskStates,
    guard: UploadGuard,
    filename: str,
    content: bytes,
) -> XlsxFile | None:
    """The uploaded workbook with every refused cell filled red and commented; None when nothing is wrong."""
    if not (filename or "").lower().endswith(".xlsx"):
        raise Unprocessable("只有 Excel 工作簿（.xlsx）可以标注错误；CSV 的错误见上传的答复", code="unsupported_file")
    errors = upload_errors(
        session=session,
        catalog=catalog,
        principal=principal,
        today=today,
        locks=locks,
        task_states=task_states,
        guard=guard,
        filename=filename,
        content=content,
    )
    if not errors:
        return None
    marked = guard.read(filename, content, marked_copy, errors)
    stem = filename.rsplit(".", 1)[0].rsplit("/", 1)[-1]
    return XlsxFile(content=marked, filename=f"{stem}_错误标注.xlsx", ascii_filename="minsheng-errors.xlsx")


def marked_copy(filename: str, content: bytes, limits: UploadLimits, errors: list[RowError]) -> bytes:
    """The workbook with `errors` marked, saved: run by `UploadGuard.read` (loading it whole is bounded
    by the same limits and time as its parse was)."""
    workbook = load_workbook(content)
    mark_errors(workbook, errors)
    return _save(workbook)


def mark_errors(workbook: Workbook, errors: list[RowError]) -> None:
    """Fill each refused cell red with a comment holding its messages; list them all on a sheet of their own."""
    sheet = data_sheet(workbook)
    by_cell: dict[str, list[str]] = {}
    for error in errors:
        by_cell.setdefault(f"{error.column or 'A'}{error.row}", []).append(error.message)
    for ref, messages in by_cell.items():
        cell = sheet[ref]
        cell.fill = ERROR_FILL
        cell.font = ERROR_FONT
        comment = Comment("\n".join(messages), "民生平台")
        comment.width, comment.height = 320, 60 + 40 * len(messages)
        cell.comment = comment
    if ERRORS_SHEET in workbook.sheetnames:
        del workbook[ERRORS_SHEET]
    listing = workbook.create_sheet(ERRORS_SHEET)
    listing.append(["行", "列", "列名", "错误"])
    for error in errors:
        listing.append([error.row, error.column or "A", error.column_name or "", error.message])
    for column, width in zip("ABCD", (6, 6, 12, 100), strict=True):
        listing.column_dimensions[column].width = width
    workbook.active = workbook.sheetnames.index(sheet.title)
