"""Rules of who is told what and when, per plan (the city office edits them; defaults below)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

DEFAULT_PLAN = "*"
HOUR = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # the row every plan without its own rules follows


class RulesBase(SQLModel):
    remind_days_before: int = SQLField(default=3, ge=0, le=30, description="截止前几天提醒（0：不提前提醒）")
    remind_on_due_day: bool = SQLField(default=True, description="截止当天提醒")
    overdue_digest: bool = SQLField(default=True, description="逾期后每天汇总提醒")
    escalate_after_days: int = SQLField(
        default=5, ge=1, le=90, description="逾期几天后升级提醒牵头部门负责人和市民生办"
    )
    # "HH:MM" rather than a time: JSON Schema's `time` wants a zone, and these are Beijing's hours by definition.
    quiet_start: str = SQLField(
        default="22:00", max_length=5, schema_extra={"pattern": HOUR}, description="免打扰开始（北京时间，时:分）"
    )
    quiet_end: str = SQLField(
        default="07:30",
        max_length=5,
        schema_extra={"pattern": HOUR},
        description="免打扰结束（北京时间，时:分），其间的消息留到此时发送",
    )
    notify_on_return: bool = SQLField(default=True, description="被退回时立即通知（附退回原因）")
    notify_on_order: bool = SQLField(default=True, description="新督办单、督办单退回重办时立即通知")


class NotifyRules(RulesBase, table=True):
    __tablename__ = "notify_rules"

    plan: str = SQLField(primary_key=True, max_length=40)
    updated_by: str | None = SQLField(default=None, max_length=100)
    updated_at: dt.datetime | None = None


class RulesUpdate(RulesBase):
    @model_validator(mode="after")
    def _quiet_hours(self) -> RulesUpdate:
        if self.quiet_start == self.quiet_end:
            raise ValueError("免打扰的开始与结束不能相同")
        return self


class RulesPublic(RulesBase):
    plan: str = Field(description="方案代码；* 为各方案的默认规则")
    inherited: bool = Field(default=False, description="该方案尚无自己的规则，沿用默认规则")
    updated_by: str | None = None
    updated_at: dt.datetime | None = None


class RulesSummary(BaseModel):
    data: list[RulesPublic]


RULES_TABLES = frozenset({NotifyRules.__tablename__})
