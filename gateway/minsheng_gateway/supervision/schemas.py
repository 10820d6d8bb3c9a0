"""督办单's public schemas: what a caller sends to open and move an order, and what it reads back."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from minsheng.evidence.schemas import MAX_REFS, EvidencePublic, EvidenceRef
from minsheng.pagination import Page
from minsheng_gateway.supervision.models import OrderAction, OrderState, SubjectKind, UnitKind


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitRef(_Body):
    kind: UnitKind = Field(description="department：市直部门（code 为部门名称）；org_unit：区县（code 为单位代码）")
    code: str = Field(min_length=1, max_length=100, examples=["市教育局", "370303"])


class SubjectRef(_Body):
    kind: SubjectKind
    ref: str = Field(min_length=1, max_length=200, description="指标编号、task-<n>、区县代码、预警或榜单行的标识")
    label: str = Field(min_length=1, max_length=300, description="督办对象的名称，如「T002-1 新建幼儿园数（张店区）」")


class OrderCreate(_Body):
    title: str = Field(min_length=2, max_length=200, description="督办事项")
    instruction: str = Field(min_length=2, max_length=4000, description="批示内容")
    subject: SubjectRef
    lead_unit: UnitRef = Field(description="主办单位")
    partner_units: list[UnitRef] = Field(default_factory=list, max_length=20, description="协办单位")
    deadline: dt.date = Field(description="办理时限")
    plan: str | None = Field(default=None, max_length=40, description="方案代码；缺省为原三年行动方案")


class OrderAnswer(_Body):
    measures: str = Field(min_length=2, max_length=4000, description="采取的措施")
    expected_result: str = Field(min_length=1, max_length=1000, description="预期达到的数值或效果")
    expected_by: dt.date = Field(description="预期何时达到")
    evidence: list[EvidenceRef] = Field(
        default_factory=list,
        max_length=MAX_REFS,
        description="佐证材料：先上传文件（POST /api/v1/supervision/evidence）得到编号，反馈时附上",
    )


class OrderReturn(_Body):
    reason: str = Field(min_length=2, max_length=2000, description="退回理由")


class UnitPublic(BaseModel):
    kind: UnitKind
    code: str
    name: str


class SubjectPublic(BaseModel):
    kind: SubjectKind
    kind_label: str
    ref: str
    label: str


class StepPublic(BaseModel):
    action: OrderAction
    action_label: str
    from_state: OrderState | None
    to_state: OrderState
    to_state_label: str
    actor: str
    at: dt.datetime
    note: str | None
    detail: dict
    evidence: list[EvidencePublic] = Field(
        default_factory=list,
        description="随这一步（反馈）保存的佐证材料；内容见 /api/v1/supervision/evidence/{id}/content",
    )


class OrderPublic(BaseModel):
    id: str
    plan: str | None
    title: str
    instruction: str
    subject: SubjectPublic
    lead_unit: UnitPublic
    partner_units: list[UnitPublic]
    deadline: dt.date
    state: OrderState
    state_label: str
    overdue: bool = Field(description="已过办理时限且未办结（按北京时间的今天计）")
    days_overdue: int = Field(description="超期天数；未超期为 0")
    opened_by: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    measures: str | None
    expected_result: str | None
    expected_by: dt.date | None
    link: str
    # What the caller may do now (the web app shows these buttons and no others).
    actions: list[OrderAction]


class OrderDetail(OrderPublic):
    history: list[StepPublic]


class OrderPage(Page[OrderPublic]):
    pass


class Choice(BaseModel):
    code: str
    label: str


class SupervisionDictionary(BaseModel):
    states: list[Choice]
    actions: list[Choice]
    subject_kinds: list[Choice]
    unit_kinds: list[Choice]
    units: list[UnitPublic] = Field(description="可选的主办、协办单位：市直部门（目录中的牵头、协办部门）与区县")
    open_roles: list[str] = Field(description="可以交办督办单的身份")
