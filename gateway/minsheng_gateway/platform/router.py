"""What the web app needs to know about the platform it talks to (open, no sign-in)."""

import enum

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

from minsheng.auth.models import ROLE_LABELS
from minsheng.catalog.document import FREQUENCY_LABELS, PLAN_PHASE_LABELS
from minsheng.progress.model import STATUS_LABELS
from minsheng.reporting.models import (
    CHANGE_ACTION_LABELS,
    IMPLEMENTATION_STATE_LABELS,
    REPORT_STATUS_LABELS,
    TASK_STATE_LABELS,
)
from minsheng_gateway.inbox.models import INBOX_KIND_LABELS, INBOX_STATE_LABELS

router = APIRouter(prefix="/api/v1", tags=["平台 platform"])


class PlatformPublic(BaseModel):
    name: str = Field(description="平台名称")
    demo_data: bool = Field(description="是否载有演示数据（本机 make run）；为真时页面标注「演示数据」")
    demo_users: bool = Field(description="是否开放演示账号")


@router.get("/platform", response_model=PlatformPublic, summary="平台信息：是否为演示数据、演示账号")
def platform(request: Request) -> PlatformPublic:
    settings = request.app.state.settings
    return PlatformPublic(name="淄博市高品质民生建设平台", demo_data=settings.demo_data, demo_users=settings.demo_users)


class Term(BaseModel):
    key: str = Field(description="接口中的取值（英文）")
    label: str = Field(description="页面上显示的中文")


class Vocabulary(BaseModel):
    """Every value a person reads, with its one Chinese wording, in the enum's order (statuses best first)."""

    indicator_status: list[Term] = Field(description="指标/任务进展状态（由好到差）")
    report_status: list[Term] = Field(description="报告状态")
    inbox_state: list[Term] = Field(description="待办状态")
    inbox_kind: list[Term] = Field(description="待办类别：指标数据、协办进展")
    task_state: list[Term] = Field(description="任务推进状态")
    implementation_state: list[Term] = Field(
        description="任务实施状态（市民生办决定）：执行中、暂缓实施、已取消、待确定"
    )
    role: list[Term] = Field(description="角色")
    change_action: list[Term] = Field(description="操作记录中的操作")
    frequency: list[Term] = Field(description="填报频次（月度、季度、年度）")
    plan_phase: list[Term] = Field(description="方案所处阶段（草稿、执行中、已结束……）")


def _terms(labels: dict[enum.Enum, str]) -> list[Term]:
    return [Term(key=str(member.value), label=label) for member, label in labels.items()]


# Built once: the wording is code, not data; the web app asks once per visit.
VOCABULARY = Vocabulary(
    indicator_status=_terms(STATUS_LABELS),
    report_status=_terms(REPORT_STATUS_LABELS),
    inbox_state=_terms(INBOX_STATE_LABELS),
    inbox_kind=_terms(INBOX_KIND_LABELS),
    task_state=_terms(TASK_STATE_LABELS),
    implementation_state=_terms(IMPLEMENTATION_STATE_LABELS),
    role=_terms(ROLE_LABELS),
    change_action=_terms(CHANGE_ACTION_LABELS),
    frequency=_terms(FREQUENCY_LABELS),
    plan_phase=_terms(PLAN_PHASE_LABELS),
)


@router.get("/vocabulary", response_model=Vocabulary, summary="词汇表：各类状态、角色、操作、频次的中文名称")
def vocabulary() -> Vocabulary:
    return VOCABULARY


def demo_data_loading(app: FastAPI) -> list[str]:
    """Readiness: not ready while `make run` loads the demo dataset (its marker file exists), so that
    nobody is told to start before the figures are in (and races the loader's approvals)."""
    marker = app.state.settings.demo_data_loading
    return ["demo_data"] if marker is not None and marker.exists() else []
