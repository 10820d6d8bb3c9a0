"""What a dry run of a 任务分解表 answers: the plan, what each campaign would get, every error (the kernel's
`BreakdownError`: sheet, row, column, code, Chinese message)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from minsheng.catalog.breakdown import BreakdownError
from minsheng.catalog.versions import CatalogDiff


class BreakdownPlan(BaseModel):
    code: str = Field(description="方案代码")
    name: str = Field(description="方案名称")
    document_number: str | None = Field(description="文号")
    start_year: int
    end_year: int
    span_label: str = Field(description="方案期，如「起止年份」的中文写法")


class BreakdownTaskPreview(BaseModel):
    number: int = Field(description="任务序号（任务编号）")
    title: str = Field(description="任务简称（具体任务的第一个分句）")
    work_item: str = Field(description="所属工作事项")
    lead_departments: list[str] = Field(description="主办单位")
    partner_departments: list[str] = Field(description="协办单位")
    indicators: list[str] = Field(
        description="指标：编号、名称和目标，如 T001-1 新改扩建公办幼儿园数量 ≥ 60处；须附佐证的注明（须附佐证）"
    )


class BreakdownCampaign(BaseModel):
    code: str
    name: str
    work_items: int = Field(description="将创建的工作事项数")
    tasks: int = Field(description="将创建的任务数")
    indicators: int = Field(description="将创建的指标数")
    district_targets: int = Field(description="将创建的区县分解目标数")
    annual_targets: int = Field(description="分年度目标数（完成时限那一年的即目标值，不另计）")
    quarterly_targets: int = Field(description="分季度目标数")
    continued: int = Field(description="接续上一轮方案指标的指标数")
    preview: list[BreakdownTaskPreview] = Field(description="前几项任务，供核对")
    amendment: CatalogDiff | None = Field(
        default=None, description="修订已发布的方案时：与该行动现行目录相比将新增、修改、停用的条目；新方案为空"
    )
    retired_reports: int = Field(default=0, description="将停用的指标已有的报送数（停用后保留，但不再显示）")
    warning: str | None = Field(default=None, description="修订的提醒，如停用的指标已有报送")


class BreakdownDryRun(BaseModel):
    ok: bool = Field(description="没有错误：可以发布")
    amends: bool = Field(default=False, description="该方案已发布：发布即修订（各行动的 amendment 列出变化）")
    summary: str = Field(description="一句话结论")
    plan: BreakdownPlan | None = Field(description="「方案」表读出的方案；有误时为空")
    sheet: str | None = Field(description="读取任务和指标的工作表")
    rows: int = Field(description="读取的任务和指标行数（空行不计）")
    campaigns: list[BreakdownCampaign]
    errors: list[BreakdownError] = Field(description="每一处错误：工作表、行、列和原因")
    warnings: list[BreakdownError] = Field(description="提醒（不妨碍发布），如工作表改了名、某行动没有任务")


class CampaignPublication(BaseModel):
    campaign: str
    name: str = Field(description="行动名称")
    status_code: int = Field(description="该行动服务的回答（201 新建，200 已存在）")
    created: bool = Field(default=False, description="该方案在该行动中首次创建")
    changed: bool = Field(default=False, description="目录有变化（同一份表再次发布时为 false）")
    tasks: int = Field(default=0, description="该行动在该方案中的任务数")
    indicators: int = Field(default=0, description="该行动在该方案中的指标数")
    version: int | None = Field(default=None, description="本次发布形成的目录版本号；没有变化时为空")
    diff: CatalogDiff | None = Field(default=None, description="与上一版相比的变化（各类列出前若干条）")
    detail: str | None = Field(default=None, description="未发布成功时的原因")


class BreakdownPublication(BaseModel):
    code: str = Field(description="方案代码")
    name: str = Field(description="方案名称")
    published: bool = Field(description="五个行动都已发布；否则用同一份表再次发布即可补齐")
    summary: str = Field(description="一句话结论")
    campaigns: list[CampaignPublication]
