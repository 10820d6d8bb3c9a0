"""修订记录: the versions of a campaign's catalog in a plan (issue 26, points 1 and 5).

A campaign service records one each time a publication (or, for the 2022–2024 plan, its catalog file at start-up)
changes the catalog: version 1 at creation, then each amendment, with who published it and what it changed (the
labels of `loader.diff_catalogs`).  Publishing the same catalog again records nothing.  The labels are stored as
the loader writes them and said in Chinese when served (`describe_change`), so the wording can improve without
rewriting history."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select

from minsheng.catalog.document import CampaignDoc
from minsheng.catalog.loader import CatalogChanges, catalog_digest
from minsheng.catalog.models import CatalogVersion

CATALOG_FILE = "目录文件"  # who published a version the service applied from its own catalog.yaml
SHOWN_LABELS = 20  # the labels a publication's answer lists of each kind (the counts are whole)

_BASIS = {"year_flow": "（年内新增）"}
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^plan (\S+)$"), "方案 {0}"),
    (re.compile(r"^campaign (\S+)$"), "行动 {0}"),
    (re.compile(r"^org_unit (\S+)$"), "单位 {0}"),
    (re.compile(r"^item (\d+)$"), "工作事项 {0}"),
    (re.compile(r"^task (\d+)$"), "任务 {0}"),
    (re.compile(r"^task (\d+) lead department (.+?) removed$"), "任务 {0} 主办单位 {1}（删除）"),
    (re.compile(r"^task (\d+) lead department (.+)$"), "任务 {0} 主办单位 {1}"),
    (re.compile(r"^task (\d+) partner department (.+?) removed$"), "任务 {0} 协办单位 {1}（删除）"),
    (re.compile(r"^task (\d+) partner department (.+)$"), "任务 {0} 协办单位 {1}"),
    (re.compile(r"^indicator (\S+)$"), "指标 {0}"),
    (re.compile(r"^indicator (\S+) milestone (\S+)(?: (year_flow))?( removed)?$"), "指标 {0} 阶段目标 {1}{2}{3}"),
    (re.compile(r"^indicator (\S+) target (\S+?)( removed)?$"), "指标 {0} 区县目标 {1}{2}"),
]


def describe_change(label: str) -> str:
    """A loader label in Chinese: `indicator T002-1 milestone 2025Q2 year_flow removed` → 指标 T002-1 阶段目标
    2025Q2（年内新增）（删除）.  A label of no known shape is given as it is."""
    for pattern, text in _PATTERNS:
        match = pattern.match(label)
        if match:
            parts = [part or "" for part in match.groups()]
            parts = [_BASIS.get(part, part) for part in parts]
            parts = ["（删除）" if part == " removed" else part for part in parts]
            return text.format(*parts)
    return label


class CatalogDiff(BaseModel):
    """What a catalog version changes (or an amendment would), counted, with the first labels of each kind."""

    created: int = Field(description="新增的条目数（任务、指标、阶段目标、区县目标等）")
    updated: int = Field(description="修改的条目数")
    retired: int = Field(description="停用的任务和指标数（保留历史，不再出现在清单中）")
    created_labels: list[str] = Field(description="新增的条目（最多列出若干条）")
    updated_labels: list[str] = Field(description="修改的条目（最多列出若干条）")
    retired_labels: list[str] = Field(description="停用的条目（最多列出若干条）")

    @classmethod
    def of(cls, created: list[str], updated: list[str], retired: list[str], shown: int | None = SHOWN_LABELS):
        def said(labels: list[str]) -> list[str]:
            return [describe_change(label) for label in labels[:shown]]

        return cls(
            created=len(created),
            updated=len(updated),
            retired=len(retired),
            created_labels=said(created),
            updated_labels=said(updated),
            retired_labels=said(retired),
        )

    @classmethod
    def of_changes(cls, changes: CatalogChanges, shown: int | None = SHOWN_LABELS) -> CatalogDiff:
        return cls.of(changes.created, changes.updated, changes.retired, shown)


class CatalogVersionPublic(BaseModel):
    plan: str = Field(description="方案代码")
    campaign: str
    version: int = Field(description="版本号：该方案在本行动中的第几版目录（创建时为 1）")
    digest: str = Field(description="目录文件的指纹（SHA-256）")
    published_at: dt.datetime
    published_by: str = Field(description="发布人（市民生办账号），或「目录文件」（服务启动时按目录文件更新）")
    tasks: int = Field(description="该版本的任务数")
    indicators: int = Field(description="该版本的指标数")
    changes: CatalogDiff = Field(description="与上一版相比的变化（全部列出）")


def record_version(
    session: Session, *, doc: CampaignDoc, changes: CatalogChanges, by: str, at: dt.datetime | None = None
) -> CatalogVersion:
    """The next version of `doc`'s campaign in its plan (in the session's schema), as `changes` says.  Called in the
    transaction that applied `doc`, which serializes writers (`loader.lock_catalog`)."""
    latest = session.exec(
        select(func.max(CatalogVersion.version)).where(
            CatalogVersion.plan_code == doc.plan.code, CatalogVersion.campaign_code == doc.code
        )
    ).one()
    row = CatalogVersion(
        plan_code=doc.plan.code,
        campaign_code=doc.code,
        version=(latest or 0) + 1,
        digest=catalog_digest(doc),
        published_at=at or dt.datetime.now(dt.UTC),
        published_by=by,
        tasks=sum(len(item.tasks) for item in doc.items),
        indicators=len(doc.all_indicators()),
        created=list(changes.created),
        updated=list(changes.updated),
        retired=list(changes.retired),
    )
    session.add(row)
    session.flush()
    return row


def version_public(row: CatalogVersion) -> CatalogVersionPublic:
    return CatalogVersionPublic(
        plan=row.plan_code,
        campaign=row.campaign_code,
        version=row.version,
        digest=row.digest,
        published_at=row.published_at,
        published_by=row.published_by,
        tasks=row.tasks,
        indicators=row.indicators,
        changes=CatalogDiff.of(row.created, row.updated, row.retired, shown=None),
    )


def list_versions(session: Session, *, plan: str, campaign: str) -> list[CatalogVersionPublic]:
    """The campaign's catalog versions in the plan, newest first."""
    rows = session.exec(
        select(CatalogVersion)
        .where(CatalogVersion.plan_code == plan, CatalogVersion.campaign_code == campaign)
        .order_by(CatalogVersion.version.desc())
    )
    return [version_public(row) for row in rows]
