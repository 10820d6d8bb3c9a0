"""月调度通报: the monthly bulletin the city office circulates, drafted as a .docx from the gateway's own
tables as they stood at the month's end (the summaries, the district ranking and the warnings)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from sqlmodel import Session, select

from minsheng.catalog.document import PlanDoc
from minsheng.catalog.models import OrgUnit
from minsheng.catalog.snapshot import CatalogCache, plan_of
from minsheng.errors import Unprocessable
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import indicator_progress
from minsheng.progress.model import STATUS_LABELS, Status, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.bulletin.charts import cjk_font, score_chart, short_name, status_chart
from minsheng_gateway.bulletin.chinese import amount, chinese_count, chinese_date, chinese_month, percent
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.reads import counted_facts, tasks_and_leads, tasks_apart
from minsheng_gateway.summaries.schemas import DistrictScore, Ranking, Summary, TasksApart
from minsheng_gateway.summaries.service import district_matrix, summary
from minsheng_gateway.supervision.service import MonthFigures, month_figures

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
ORDER = (Status.completed, Status.on_track, Status.at_risk, Status.behind, Status.no_data, Status.no_target)
WARNING_ROWS = 60  # the table's length; the rest are counted and left to the 预警 page
FONT = "仿宋"  # the body font of official documents; Word substitutes where it is missing
TITLE_FONT = "方正小标宋简体"


@dataclass(frozen=True)
class MonthWarning:
    indicator: str
    name: str
    org_unit: str
    org_unit_name: str
    status: Status
    lead_departments: list[str]
    reasons: list[str]


@dataclass(frozen=True)
class MonthlyBulletin:
    year: int
    month: int
    end: dt.date
    plan: PlanDoc
    scoring_rule: str
    city: Summary
    ranking: list[DistrictScore]
    previous_ranks: dict[str, int | None]
    warnings: list[MonthWarning]
    supervision: MonthFigures


def month_end(month: str, today: dt.date, *, plan: PlanDoc) -> dt.date:
    """The last day of `month` (YYYY-MM) if it is a month of the plan that has ended."""
    match = MONTH.match(month)
    if not match or not 1 <= int(match[2]) <= 12:
        raise Unprocessable(f"月份「{month}」格式不对，请写成 {plan.last_year}-05 这样的年-月", code="invalid_month")
    year, number = int(match[1]), int(match[2])
    if not plan.covers_year(year):
        raise Unprocessable(
            f"月份「{month}」不在《{plan.name}》的实施期内，"
            f"请选择 {plan.first_year}-01 至 {plan.last_year}-12 之间的月份",
            code="month_outside_plan",
        )
    end = dt.date(year + number // 12, number % 12 + 1, 1) - dt.timedelta(days=1)
    if end >= today:
        raise Unprocessable(
            f"{chinese_month(year, number)}尚未结束，月调度通报在月末之后才能生成", code="month_not_over"
        )
    return end


def month_warnings(session: Session, catalog: CatalogCache, end: dt.date, thresholds: Thresholds) -> list[MonthWarning]:
    """Indicators at risk or behind at the month's end, for the city and each district: the city first,
    then 进度滞后 before 存在风险 (none of a task counted apart)."""
    facts = counted_facts(load_facts(session, catalog), tasks_apart(session))
    official = GatewaySource(session).official(list(facts))
    units = list(session.exec(select(OrgUnit).order_by(OrgUnit.code)))
    _, leads = tasks_and_leads(session)
    found = []
    for unit in units:
        for code, f in facts.items():
            answer = indicator_progress(f, unit.code, official.get(code, []), [], end, thresholds)
            if answer.status in (Status.at_risk, Status.behind):
                found.append(
                    MonthWarning(
                        indicator=code,
                        name=f.name,
                        org_unit=unit.code,
                        org_unit_name=unit.name,
                        status=answer.status,
                        lead_departments=leads.get(f.task_number, []) if f.task_number else ["市民生办"],
                        reasons=list(answer.reasons),
                    )
                )
    found.sort(key=lambda w: (w.org_unit != CITY_CODE, w.status is not Status.behind, w.org_unit, w.indicator))
    return found


def gather(
    session: Session,
    catalog: CatalogCache,
    calendar: ReportingCalendar,
    month: str,
    today: dt.date,
    thresholds: Thresholds,
) -> MonthlyBulletin:
    plan = plan_of(session)
    end = month_end(month, today, plan=plan)

    def monthly_ranking(as_of: dt.date) -> Ranking:
        matrix = district_matrix(
            session=session, catalog=catalog, calendar=calendar, as_of=as_of, thresholds=thresholds
        )
        return matrix.rankings[0]

    # The 月调度 ranking is "to the end of last month": as of the next month's first day it is this month's.
    this = monthly_ranking(end + dt.timedelta(days=1))
    before = monthly_ranking(end.replace(day=1))
    return MonthlyBulletin(
        year=end.year,
        month=end.month,
        end=end,
        plan=plan,
        city=summary(session=session, catalog=catalog, org_unit=CITY_CODE, today=end, thresholds=thresholds),
        ranking=this.districts,
        scoring_rule=this.scoring_rule,
        previous_ranks={d.code: d.rank for d in before.districts},
        warnings=month_warnings(session, catalog, end, thresholds),
        supervision=month_figures(session, start=end.replace(day=1), end=end),
    )


def rank_change(rank: int | None, previous: int | None) -> str:
    """↑2, ↓1, — (unchanged), 新 (not ranked last month)."""
    if rank is None:
        return "—"
    if previous is None:
        return "新"
    if rank < previous:
        return f"↑{previous - rank}"
    if rank > previous:
        return f"↓{rank - previous}"
    return "—"


def _counts_sentence(counts: dict[str, int], noun: str) -> str:
    total = sum(counts.values())
    shown = [(STATUS_LABELS[s], counts.get(s.value, 0)) for s in ORDER if counts.get(s.value, 0)]
    parts = [f"{label}{n}{noun}（{percent(n / total)}）" for label, n in shown]
    return f"共{total}{noun}，其中" + "、".join(parts) if parts else f"共{total}{noun}"


def _apart(tasks: TasksApart) -> str:
    """The tasks counted apart, said after the counts they are not in:
    另有2项因政策调整暂缓实施，1项待确定，不计入以上统计。"""
    return f"{tasks.sentence}，不计入以上统计。" if tasks.sentence else ""


def _set_font(run, size: float, *, bold: bool = False, family: str = FONT) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = family
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), family)


def _paragraph(document, text: str, *, size: float = 14, bold: bool = False, center: bool = False, indent=True):
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _set_font(paragraph.add_run(text), size, bold=bold)
    return paragraph


def _heading(document, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(8)
    _set_font(paragraph.add_run(text), 15, bold=True, family="黑体")


def _table(document, header: list[str], rows: list[list[str]], widths: list[float] | None = None):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _set_font(cell.paragraphs[0].add_run(text), 10.5, bold=True, family="黑体")
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            run = cell.paragraphs[0].add_run(text)
            _set_font(run, 10.5)
            if text.startswith("↓") or text == STATUS_LABELS[Status.behind]:
                run.font.color.rgb = RGBColor(0xC0, 0x39, 0x2B)
            elif text.startswith("↑"):
                run.font.color.rgb = RGBColor(0x2E, 0x7D, 0x32)
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)
    return table


def _picture(document, png: bytes, caption: str) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(15))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, caption, size=10.5, center=True)


def render(data: MonthlyBulletin, *, issued: dt.date, font: str | None) -> bytes:
    """The bulletin as .docx bytes; `font`: a CJK font for the charts' labels (None: labels in codes)."""
    document = Document()
    for section in document.sections:
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _masthead(document, data, issued)
    _overall(document, data.city, font)
    _campaigns(document, data.city)
    _ranking(document, data, font)
    _warnings(document, data)
    _supervision(document, data)
    if font is None:
        _paragraph(document, "注：服务器未安装中文字体，图表中以代码代替中文名称。", size=10.5)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _masthead(document, data: MonthlyBulletin, issued: dt.date) -> None:
    """The title block and the opening paragraph."""
    period = chinese_month(data.year, data.month)
    _paragraph(document, "淄博市高品质民生建设", size=22, bold=True, center=True)
    title = _paragraph(document, "月调度通报", size=22, bold=True, center=True)
    _set_font(title.runs[0], 22, bold=True, family=TITLE_FONT)
    _paragraph(document, f"（{period}）", size=16, center=True)
    _paragraph(document, f"淄博市高品质民生建设工作专班办公室　　{chinese_date(issued)}", size=12, center=True)
    _paragraph(
        document,
        f"现将截至{chinese_date(data.end)}全市落实《{data.plan.name}》各项任务、指标推进情况"
        "和各区县月调度排名通报如下。数据取自平台已审核数据，按计划序时进度判定状态。",
    )


def _overall(document, city: Summary, font: str | None) -> None:
    """一、总体情况: the city's counts and the chart of each campaign's indicator statuses."""
    _heading(document, "一、总体情况")
    _paragraph(document, f"五大攻坚行动任务{_counts_sentence(city.tasks_by_status, '项')}。{_apart(city.tasks_apart)}")
    _paragraph(document, f"量化指标{_counts_sentence(city.indicators_by_status, '个')}。")
    chart = status_chart(
        [(c.campaign, c.name, c.indicators_by_status) for c in city.campaigns],
        {s.value: label for s, label in STATUS_LABELS.items()},
        font=font,
    )
    _picture(document, chart, "图1　各攻坚行动指标状态分布")


def _campaigns(document, city: Summary) -> None:
    """二、各攻坚行动推进情况: each campaign's counts and its headline figures."""
    _heading(document, "二、各攻坚行动推进情况")
    for number, campaign in enumerate(city.campaigns, start=1):
        _paragraph(document, f"（{chinese_count(number)}）{campaign.name}", size=14, bold=True, indent=False)
        _paragraph(
            document,
            f"任务{_counts_sentence(campaign.tasks_by_status, '项')}；"
            f"指标{_counts_sentence(campaign.indicators_by_status, '个')}。{_apart(campaign.tasks_apart)}",
        )
        rows = [
            [
                figure.name,
                figure.unit,
                amount(figure.target_value),
                amount(figure.current_value),
                percent(figure.completion),
                amount(figure.expected_value),
                figure.status_label,
            ]
            for figure in campaign.headline
        ]
        if rows:
            _table(
                document,
                ["总体目标", "单位", "目标值", "完成值", "完成率", "序时应达", "状态"],
                rows,
                [5.0, 1.4, 1.8, 1.8, 1.6, 1.8, 1.8],
            )


def _score(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"


def _ranking(document, data: MonthlyBulletin, font: str | None) -> None:
    """三、区县月调度排名: the red and black lists, the table with the change since last month, the chart."""
    _heading(document, "三、区县月调度排名")
    ranked = [d for d in data.ranking if d.rank is not None]
    if ranked:
        top = "、".join(d.name for d in ranked[:3])
        bottom = "、".join(d.name for d in ranked[-3:][::-1])
        _paragraph(document, f"红榜（前三名）：{top}。黑榜（后三名）：{bottom}。")
    campaigns = [(c.campaign, c.name) for c in data.city.campaigns]
    _table(
        document,
        ["排名", "区县", "总分", *[short_name(name) for _, name in campaigns], "较上月"],
        [
            [
                str(d.rank) if d.rank is not None else "—",
                d.name,
                _score(d.score),
                *[_score(d.campaigns.get(c)) for c, _ in campaigns],
                rank_change(d.rank, data.previous_ranks.get(d.code)),
            ]
            for d in data.ranking
        ],
    )
    _picture(
        document, score_chart([(d.code, d.name, d.score) for d in data.ranking], font=font), "图2　各区县月调度得分"
    )
    _paragraph(document, f"计分规则：{data.scoring_rule}", size=10.5)


def _warnings(document, data: MonthlyBulletin) -> None:
    """四、预警事项: how many at risk or behind, and the first `WARNING_ROWS` of them."""
    _heading(document, "四、预警事项")
    behind = sum(1 for w in data.warnings if w.status is Status.behind)
    _paragraph(
        document,
        f"截至{chinese_date(data.end)}，存在风险或进度滞后的指标共{len(data.warnings)}项次"
        f"（进度滞后{behind}项次、存在风险{len(data.warnings) - behind}项次），请牵头部门和相关区县抓紧推进。",
    )
    if not data.warnings:
        return
    _table(
        document,
        ["序号", "指标", "单位", "状态", "牵头部门", "原因"],
        [
            [
                str(i),
                f"{w.indicator} {w.name}",
                w.org_unit_name,
                STATUS_LABELS[w.status],
                "、".join(w.lead_departments),
                "；".join(w.reasons),
            ]
            for i, w in enumerate(data.warnings[:WARNING_ROWS], start=1)
        ],
        [1.0, 4.2, 1.6, 1.6, 2.6, 4.4],
    )
    if len(data.warnings) > WARNING_ROWS:
        _paragraph(document, f"另有{len(data.warnings) - WARNING_ROWS}项次，详见平台“预警”页面。", size=10.5)


def _supervision(document, data: MonthlyBulletin) -> None:
    """五、督办事项: the 督办单 opened and closed in the month, those overdue at its end, by lead unit."""
    _heading(document, "五、督办事项")
    totals = data.supervision.totals
    _paragraph(
        document,
        f"本月新交办督办事项{totals.opened}件、办结{totals.closed}件；截至{chinese_date(data.end)}，"
        f"尚未办结{totals.open}件，其中超期{totals.overdue}件。"
        + ("请有关单位对照批示要求抓紧办理、按时反馈。" if totals.overdue else ""),
    )
    if not data.supervision.units:
        return
    _table(
        document,
        ["主办单位", "本月交办", "本月办结", "未办结", "其中超期"],
        [
            [unit, str(row.opened), str(row.closed), str(row.open), str(row.overdue)]
            for unit, row in data.supervision.units.items()
        ],
        [5.0, 2.2, 2.2, 2.2, 2.2],
    )


def monthly_bulletin(
    *,
    session: Session,
    catalog: CatalogCache,
    month: str,
    today: dt.date,
    thresholds: Thresholds,
    calendar: ReportingCalendar,
) -> tuple[str, bytes]:
    """(file name, .docx bytes) of the month's bulletin."""
    data = gather(session, catalog, calendar, month, today, thresholds)
    name = f"月调度通报{data.year}年{data.month}月.docx"
    return name, render(data, issued=today, font=cjk_font())
