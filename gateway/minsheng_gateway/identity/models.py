"""Accounts, sign-in sessions and API keys (the gateway's own database)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.models import enum_column


class AccountBase(SQLModel):
    username: str = Field(min_length=2, max_length=50, unique=True)  # letters, digits, . _ - (service.py)
    display_name: str = Field(min_length=1, max_length=50)  # as the history shows it, e.g. 市教育局 张三
    role: Role = Field(sa_type=enum_column(Role))
    department: str | None = Field(default=None, max_length=100)  # bureau: its department
    org_unit: str | None = Field(default=None, max_length=6)  # district: its org unit code
    indicators: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # integration: what it may write
    # 负责人 (the department's head): the notifier escalates to the heads of a department, if it has any.
    head: bool = Field(default=False, description="是否为部门负责人（逾期升级提醒发给负责人）")


class AccountCreate(AccountBase):
    password: str = Field(max_length=200)


class Account(AccountBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=200)
    disabled: bool = False
    failed_sign_ins: int = 0  # consecutive; reset by a successful sign-in and by a lockout
    locked_until: dt.datetime | None = None
    password_changed_at: dt.datetime
    last_login_at: dt.datetime | None = None
    created_at: dt.datetime
    created_by: str | None = Field(default=None, max_length=100)
    # Where the notifier reaches the person (decision 0021); the 消息中心 needs none of them.
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=20)
    robots: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # codes of the group robots it belongs to
    muted: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # channels the person switched off
    # An integration account may be held to 政务 request signing (signing.py): its bare API keys are refused.
    signed_requests_required: bool = False

    def principal(self) -> Principal:
        return Principal(
            account_id=self.id or 0,
            name=self.display_name,
            role=self.role,
            department=self.department,
            org_unit=self.org_unit,
            indicators=frozenset(self.indicators),
        )


MUTABLE_CHANNELS = ("email", "wecom", "dingtalk", "sms")  # 站内消息 (inapp) is always on
MUTABLE_CHANNEL_LABELS = {"email": "电子邮件", "wecom": "企业微信群", "dingtalk": "钉钉群", "sms": "短信"}


class AccountContacts(SQLModel):
    """A person's contact settings: where reminders reach them, and the channels they muted."""

    email: str | None = Field(default=None, max_length=254, description="电子邮箱；留空则不发邮件")
    mobile: str | None = Field(default=None, max_length=20, description="手机号（11 位）；留空则不发短信")
    robots: list[str] = Field(default_factory=list, description="所在工作群的机器人代码（企业微信、钉钉）")
    muted: list[str] = Field(
        default_factory=list, description="关闭的提醒渠道：email 电子邮件、wecom 企业微信群、dingtalk 钉钉群、sms 短信"
    )


class ChannelChoice(SQLModel):
    code: str
    label: str


class AccountContactsPublic(AccountContacts):
    channels: list[ChannelChoice] = Field(
        default_factory=lambda: [ChannelChoice(code=c, label=MUTABLE_CHANNEL_LABELS[c]) for c in MUTABLE_CHANNELS],
        description="可关闭的提醒渠道（站内消息始终开启）",
    )


class AccountPublic(AccountBase):
    id: int
    disabled: bool
    signed_requests_required: bool = False
    last_login_at: dt.datetime | None
    created_by: str | None


class SignInSession(SQLModel, table=True):
    """A person's sign-in. The cookie holds a random id; only its SHA-256 is stored here."""

    __tablename__ = "sign_in_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    csrf_token: str = Field(max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime  # the absolute limit, whatever the activity
    revoked_at: dt.datetime | None = None
    client_address: str | None = Field(default=None, max_length=64)


class ApiKey(SQLModel, table=True):
    """A system's key for an integration account. Shown once; only its SHA-256 is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(min_length=1, max_length=100)
    key_hash: str = Field(unique=True, max_length=64)
    created_at: dt.datetime
    created_by: str | None = Field(default=None, max_length=100)
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class ApiKeyCreate(SQLModel):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyPublic(SQLModel):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class ApiKeyIssued(SQLModel):
    id: int
    name: str
    key: str  # shown this once
    created_at: dt.datetime


class AppKey(SQLModel, table=True):
    """An integration account's AppKey and the secret its requests are signed with (signing.py). The secret is
    kept as issued: an HMAC can only be checked with it (shown to the caller once, never answered again)."""

    __tablename__ = "app_key"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    app_key: str = Field(unique=True, max_length=40)
    secret: str = Field(max_length=100)
    name: str = Field(min_length=1, max_length=100)
    created_at: dt.datetime
    created_by: str | None = Field(default=None, max_length=100)
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class RequestNonce(SQLModel, table=True):
    """A nonce a signed request used, kept until its timestamp leaves the window: a second use is a replay."""

    __tablename__ = "request_nonce"

    app_key: str = Field(primary_key=True, max_length=40)
    nonce: str = Field(primary_key=True, max_length=64)
    expires_at: dt.datetime = Field(index=True)


class AppKeyCreate(SQLModel):
    name: str = Field(min_length=1, max_length=100, description="用途说明，如 大数据局一体化平台")


class AppKeyPublic(SQLModel):
    id: int
    name: str
    app_key: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class AppKeyIssued(SQLModel):
    id: int
    name: str
    app_key: str
    app_secret: str = Field(description="签名密钥（AppSecret），只显示这一次")
    created_at: dt.datetime


class SigningRequirement(SQLModel):
    required: bool = Field(description="true：该对接系统账号的请求必须签名，仅带 API 密钥的请求被拒绝")


class SignedIn(SQLModel):
    user: AccountPublic
    csrf_token: str


class PasswordChange(SQLModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class HeadChoice(SQLModel):
    head: bool = Field(description="是否为部门负责人（仅部门账号）")


class PasswordReset(SQLModel):
    new_password: str = Field(max_length=200)


class Credentials(SQLModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=200)


IDENTITY_TABLES = frozenset(
    {
        Account.__tablename__,
        SignInSession.__tablename__,
        ApiKey.__tablename__,
        AppKey.__tablename__,
        RequestNonce.__tablename__,
    }
)
