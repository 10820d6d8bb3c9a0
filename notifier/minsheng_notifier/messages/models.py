"""Messages: each recorded before it is sent, keyed so that nothing is sent twice (docs/decisions/0021)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from minsheng.catalog.models import enum_column
from minsheng.pagination import Page


class Channel(str, enum.Enum):
    inapp = "inapp"  # 站内消息: the 消息中心, always on
    email = "email"
    wecom = "wecom"  # 企业微信 group robot
    dingtalk = "dingtalk"  # 钉钉 custom robot
    sms = "sms"


CHANNEL_LABELS = {
    Channel.inapp: "站内消息",
    Channel.email: "电子邮件",
    Channel.wecom: "企业微信群",
    Channel.dingtalk: "钉钉群",
    Channel.sms: "短信",
}
MUTABLE_CHANNELS = frozenset({Channel.email, Channel.wecom, Channel.dingtalk, Channel.sms})


class Reason(str, enum.Enum):
    digest = "digest"  # the day's digest of what is due soon, due today or overdue
    returned = "returned"  # a report was returned (退回), with its reason
    escalation = "escalation"  # overdue beyond the rules' days: the lead department's head and the city office
    order_assigned = "order_assigned"  # a new 督办单
    order_returned = "order_returned"  # a 督办单 returned (退回重办)
    order_escalation = "order_escalation"  # a 督办单 unacknowledged or not closed after its deadline


REASON_LABELS = {
    Reason.digest: "填报提醒",
    Reason.returned: "退回通知",
    Reason.escalation: "逾期升级提醒",
    Reason.order_assigned: "督办通知",
    Reason.order_returned: "督办退回重办",
    Reason.order_escalation: "督办逾期升级",
}


class Delivery(str, enum.Enum):
    pending = "pending"  # recorded, waiting for its time (quiet hours, a retry) or the sender
    sent = "sent"  # handed over (the SMTP server, the robot, the provider accepted it; 站内消息: shown)
    failed = "failed"  # its last try failed


DELIVERY_LABELS = {Delivery.pending: "待发送", Delivery.sent: "已送达", Delivery.failed: "发送失败"}


class Message(SQLModel, table=True):
    """One message to one recipient (a person, or a group robot) through one channel."""

    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_due", "not_before", postgresql_where=sa.text("status = 'pending'")),)

    id: int | None = SQLField(default=None, primary_key=True)
    # (recipient, channel, reason, day or item): unique, so a message is recorded once whatever runs twice.
    key: str = SQLField(max_length=300, unique=True)
    account_id: int | None = SQLField(default=None, index=True)  # None: a group robot's message
    recipient: str = SQLField(max_length=100)  # the person's display name, or the robot's name
    channel: Channel = SQLField(sa_type=enum_column(Channel))
    address: str = SQLField(default="", max_length=500)  # e-mail, mobile, robot code; empty for 站内消息
    reason: Reason = SQLField(sa_type=enum_column(Reason))
    plan: str | None = SQLField(default=None, max_length=40)
    subject: str = SQLField(max_length=200)
    body: str
    link: str = SQLField(default="", max_length=300)  # the web app's path of what it is about
    # SMS: the provider's pre-approved template and its parameters (the body is what they render to).
    template: str | None = SQLField(default=None, max_length=40)
    params: dict = SQLField(default_factory=dict, sa_type=sa.JSON)
    status: Delivery = SQLField(default=Delivery.pending, sa_type=enum_column(Delivery))
    attempts: int = 0
    not_before: dt.datetime = SQLField(sa_type=sa.DateTime(timezone=True))
    created_at: dt.datetime = SQLField(sa_type=sa.DateTime(timezone=True))
    sent_at: dt.datetime | None = SQLField(default=None, sa_type=sa.DateTime(timezone=True))
    last_error: str | None = SQLField(default=None, max_length=500)
    read_at: dt.datetime | None = SQLField(default=None, sa_type=sa.DateTime(timezone=True))


class MessageRef(SQLModel, table=True):
    """What a message is about, one row per item: `report:<indicator>:<org unit>:<period>` or `order:<id>`
    (the 催办记录 of a report or a 督办单 reads these)."""

    __tablename__ = "message_ref"

    message_id: int = SQLField(foreign_key="message.id", primary_key=True, ondelete="CASCADE")
    ref: str = SQLField(max_length=200, primary_key=True, index=True)


def report_ref(indicator: str, org_unit: str, period: str) -> str:
    return f"report:{indicator}:{org_unit}:{period}"


def order_ref(order_id: str) -> str:
    return f"order:{order_id}"


class MessagePublic(BaseModel):
    id: int
    channel: Channel
    channel_label: str
    reason: Reason
    reason_label: str
    subject: str
    body: str
    link: str
    status: Delivery
    status_label: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    read: bool = Field(description="站内消息已读")


class MessagePage(Page[MessagePublic]):
    unread: int = Field(description="未读站内消息数")


class UnreadCount(BaseModel):
    unread: int


class ReminderRecord(BaseModel):
    """One line of a 催办记录: who was reminded, when, through which channel, delivered or not."""

    recipient: str
    channel: Channel
    channel_label: str
    address: str = Field(description="送达地址（邮箱、手机号、机器人）；站内消息为空")
    reason: Reason
    reason_label: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: Delivery
    status_label: str
    attempts: int
    last_error: str | None


class ReminderLog(BaseModel):
    ref: str
    data: list[ReminderRecord]


MESSAGE_TABLES = frozenset({Message.__tablename__, MessageRef.__tablename__})
