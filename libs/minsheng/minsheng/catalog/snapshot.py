"""A per-process, read-only snapshot of the catalog facts that every report submission checks.

The catalog changes only when a catalog document is applied (at start-up, or in the gateway when a
catalog event arrives), which drops the snapshot; between those moments, re-reading every indicator
and their lead departments for every report would be most of a submission's cost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, select

from minsheng.catalog.document import Aggregation, PlanDoc, legacy_plan
from minsheng.catalog.models import Campaign, Indicator, OrgUnit, Plan, TaskLeadDepartment, TaskPartnerDepartment
from minsheng.db.engine import request_plan


@dataclass(frozen=True)
class IndicatorFact:
    code: str
    name: str
    unit: str
    aggregation: Aggregation
    city_only: bool
    task_number: int | None
    campaign_code: str
    evidence_required: bool = False  # 须附佐证


@dataclass(frozen=True)
class CatalogSnapshot:
    indicators: dict[str, IndicatorFact]  # active (not retired) indicators
    org_units: frozenset[str]
    lead_departments: dict[int, tuple[str, ...]]
    plan: PlanDoc  # the plan the campaigns here work to
    partner_departments: dict[int, tuple[str, ...]] = field(default_factory=dict)  # 协办单位, where a task has any
    derived: dict = field(default_factory=dict)  # other views of the same catalog, built on first use

    def extra(self, name: str, build):  # noqa: ANN001, ANN201
        """A derived view of this catalog (e.g. the progress layer's facts), cached with the snapshot."""
        if name not in self.derived:
            self.derived[name] = build()
        return self.derived[name]


class CatalogCache:
    """The catalog snapshot of the process's database, and the views derived from it
    (`CatalogSnapshot.extra`).

    One per app (`app.state.catalog`, `CatalogDep`), handed to what reads the catalog.  Read on first
    use (a campaign service reads it at start-up, so no request waits for it).  Stale when a catalog
    document is applied: `apply_catalog` drops it (`drop`), and the next reader reads the catalog
    again.  A test's fresh app starts with nothing read; `drop` forgets what was read."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, session: Session) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = _read_snapshot(session)
            with self._lock:
                self._snapshot = snapshot
        return snapshot

    @property
    def cached(self) -> bool:
        return self._snapshot is not None

    def drop(self) -> None:
        with self._lock:
            self._snapshot = None


def _read_snapshot(session: Session) -> CatalogSnapshot:
    indicators = {
        i.code: IndicatorFact(
            code=i.code,
            name=i.name,
            unit=i.unit,
            aggregation=i.aggregation,
            city_only=i.city_only,
            task_number=i.task_number,
            campaign_code=i.campaign_code,
            evidence_required=i.evidence_required,
        )
        for i in session.exec(select(Indicator).where(Indicator.retired == False))
    }  # noqa: E712
    leads: dict[int, list[str]] = {}
    for row in session.exec(select(TaskLeadDepartment).order_by(TaskLeadDepartment.position)):
        leads.setdefault(row.task_number, []).append(row.department)
    partners: dict[int, list[str]] = {}
    for row in session.exec(select(TaskPartnerDepartment).order_by(TaskPartnerDepartment.position)):
        partners.setdefault(row.task_number, []).append(row.department)
    return CatalogSnapshot(
        indicators=indicators,
        org_units=frozenset(session.exec(select(OrgUnit.code))),
        lead_departments={k: tuple(v) for k, v in leads.items()},
        plan=plan_of(session),
        partner_departments={k: tuple(v) for k, v in partners.items()},
    )


def plan_of(session: Session) -> PlanDoc:
    """The plan of the session's catalog: one per schema (decision 0017: the legacy plan in public, each further
    plan in its own, where it may have no campaign of this service); before any catalog is applied, the legacy plan."""
    row = session.exec(select(Plan).join(Campaign, Campaign.plan_code == Plan.code).limit(1)).first()
    row = row or session.exec(select(Plan).limit(1)).first()
    return row.doc() if row is not None else legacy_plan()


async def _app_catalog(request: Request) -> CatalogCache:  # async: no thread hand-off to read app state
    return request_plan(request).catalog


CatalogDep = Annotated[CatalogCache, Depends(_app_catalog)]
