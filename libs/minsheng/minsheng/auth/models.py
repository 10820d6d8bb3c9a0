from __future__ import annotations

import datetime as dt
import enum

from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class Role(str, enum.Enum):
    city_office = "city_office"  # 市民生办: everything, approve, return, lock
    bureau = "bureau"  # 牵头部门: reports on the tasks its department leads
    district = "district"  # 区县: reports for its own org unit
    viewer = "viewer"  # 只读
    integration = "integration"  # 对接系统: bulk writes for named indicators


ROLE_LABELS = {
    Role.city_office: "市民生办",
    Role.bureau: "牵头部门",
    Role.district: "区县",
    Role.viewer: "只读用户",
    Role.integration: "对接系统",
}


class ApiToken(SQLModel, table=True):
    """A bearer token. Only its SHA-256 is stored: a leaked database does not leak tokens."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=100)  # who holds it, e.g. 市教育局 张三
    role: Role = Field(sa_type=enum_column(Role))
    department: str | None = Field(default=None, max_length=100)  # bureau: its department
    org_unit_code: str | None = Field(default=None, max_length=6)  # district: its org unit
    indicator_codes: str | None = None  # integration: comma-separated indicator codes it may write
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


AUTH_TABLES = frozenset({ApiToken.__tablename__})
