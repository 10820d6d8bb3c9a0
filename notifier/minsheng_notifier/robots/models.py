"""Group robots (企业微信, 钉钉): one per district or department group; accounts name the ones they belong to."""

from __future__ import annotations

import enum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class RobotKind(str, enum.Enum):
    wecom = "wecom"
    dingtalk = "dingtalk"


class RobotBase(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="群名称，例如 张店区民生填报群")
    kind: RobotKind = Field(
        sa_type=enum_column(RobotKind), description="wecom 企业微信群机器人；dingtalk 钉钉自定义机器人"
    )
    webhook: str = Field(min_length=1, max_length=500, description="机器人的 Webhook 地址")
    secret: str = Field(default="", max_length=200, description="钉钉加签密钥（SEC…）；企业微信不需要")


class Robot(RobotBase, table=True):
    __tablename__ = "robot"

    code: str = Field(primary_key=True, max_length=40)


class RobotPublic(BaseModel):
    code: str
    name: str
    kind: RobotKind
    webhook: str
    signed: bool  # a secret is set (never shown again)


ROBOT_TABLES = frozenset({Robot.__tablename__})
