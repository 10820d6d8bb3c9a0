"""The data quality integration events (issue 30): a rule failed for an org unit and period when a report was saved,
or a later report resolved it.  Key `rule-<id>`: a rule's failures and resolutions stay in order on one partition."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from minsheng.messaging import IntegrationEvent, event_source, register_event, topic_for
from minsheng.reporting.events import _PlanEventData

RULE_FAILED = "minsheng.quality.rule_failed.v1"
RULE_RESOLVED = "minsheng.quality.rule_resolved.v1"
QUALITY_EVENT_TYPES = (RULE_FAILED, RULE_RESOLVED)


class RuleFailed(_PlanEventData):
    """minsheng.quality.rule_failed.v1: a validation rule did not hold for an org unit and period when the report
    `report_id` was saved (a 高 one only with the report's 说明 explaining it, in `explained`)."""

    campaign: str
    rule: int
    name: str
    expression: str = Field(description="如 T003-2 <= T003-1")
    importance: str = Field(description="high 高 | medium 中 | low 低")
    instruction: str
    org_unit: str
    period: str
    indicator: str = Field(description="所保存报告的指标")
    indicators: list[str] = Field(description="规则涉及的指标")
    report_id: int
    left_value: float
    right_value: float
    explained: str = ""
    actor: str
    occurred_at: dt.datetime


class RuleResolved(_PlanEventData):
    """minsheng.quality.rule_resolved.v1: the rule holds again for the org unit and period, since report
    `report_id` was saved."""

    campaign: str
    rule: int
    org_unit: str
    period: str
    indicator: str
    report_id: int
    actor: str
    occurred_at: dt.datetime


register_event(RULE_FAILED, RuleFailed)
register_event(RULE_RESOLVED, RuleResolved)


def rule_key(rule: int) -> str:
    return f"rule-{rule}"


def quality_event(campaign: str, event_type: str, data: RuleFailed | RuleResolved) -> tuple[str, str, IntegrationEvent]:
    key = rule_key(data.rule)
    event = IntegrationEvent(source=event_source(campaign), type=event_type, subject=key, data=data)
    return topic_for(campaign), key, event
