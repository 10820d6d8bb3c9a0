"""What the web app is told about the plans: everything it shows about a plan's time comes from here."""

import datetime as dt

from pydantic import BaseModel, Field

from minsheng.catalog.document import PlanPhase, PlanState
from minsheng.catalog.versions import CatalogVersionPublic


class PeriodOption(BaseModel):
    code: str = Field(description="期间代码，如月 yyyy-mm、季 yyyyQn、年 yyyy")
    ended: bool = Field(description="是否已结束（已结束的期间才有月调度通报、才应报送）")


class PlanPeriods(BaseModel):
    """The plan's periods that have begun by today, newest first (the pickers' options)."""

    month: list[PeriodOption]
    quarter: list[PeriodOption]
    year: list[PeriodOption]


class PlanPublic(BaseModel):
    code: str
    name: str = Field(description="方案名称")
    document_number: str | None = Field(description="文号")
    start: dt.date = Field(description="实施期开始")
    end: dt.date = Field(description="实施期结束")
    span_label: str = Field(description="实施期的中文写法（起止年份）")
    state: PlanState
    phase: PlanPhase = Field(description="今天所处阶段（词汇表 plan_phase）")
    current: bool = Field(description="是否为默认方案：今天正在执行的（没有则最近开始的）")
    periods: PlanPeriods
    time_elapsed: float = Field(description="序时进度：截至所问日期（默认今天）实施期已过去的比例 0–1")


class CampaignClosing(BaseModel):
    campaign: str
    name: str = Field(description="行动名称，如 教育（该服务的目录尚未同步时也能写出）")
    status_code: int = Field(description="该行动服务的回答（200 已关闭）")
    detail: str | None = Field(default=None, description="未关闭时的原因")


class CampaignVersions(BaseModel):
    campaign: str
    name: str = Field(description="行动名称")
    status_code: int = Field(description="该行动服务的回答（200 已读到）")
    versions: list[CatalogVersionPublic] = Field(default=[], description="该行动在该方案中的目录版本，最新在前")
    detail: str | None = Field(default=None, description="未读到时的原因")


class PlanVersions(BaseModel):
    code: str = Field(description="方案代码")
    campaigns: list[CampaignVersions] = Field(description="五个行动各自的修订记录")


class PlanClosing(BaseModel):
    code: str
    closed: bool = Field(description="五个行动都已关闭该方案")
    campaigns: list[CampaignClosing]
