"""A per-process, read-only snapshot of the catalog facts that every report submission checks.

The catalog changes only when a catalog document is applied (at start-up, or in the gateway when a
catalog event arrives), which drops the snapshot; between those moments, re-reading 138 indicators
and their lead departments for every report would be most of a submission's cost.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from minsheng.catalog.document import Aggregation
from minsheng.catalog.models import Indicator, OrgUnit, TaskLeadDepartment


@dataclass(frozen=True)
class IndicatorFact:
    code: str
    name: str
    unit: str
    aggregation: Aggregation
    city_only: bool
    task_number: int | None
    campaign_code: str


@dataclass(frozen=True)
class CatalogSnapshot:
    indicators: dict[str, IndicatorFact]  # active (not retired) indicators
    org_units: frozenset[str]
    lead_departments: dict[int, tuple[str, ...]]
    derived: dict = field(default_factory=dict)  # other views of the same catalog, built on first use

    def extra(self, name: str, build):  # noqa: ANN001, ANN201
        """A derived view of this catalog (e.g. the progress layer's facts), cached with the snapshot."""
        if name not in self.derived:
            self.derived[name] = build()
        return self.derived[name]


_snapshots: weakref.WeakKeyDictionary[Engine, CatalogSnapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def catalog_snapshot(session: Session) -> CatalogSnapshot:
    engine = session.get_bind().engine
    snapshot = _snapshots.get(engine)
    if snapshot is None:
        indicators = {i.code: IndicatorFact(code=i.code, name=i.name, unit=i.unit, aggregation=i.aggregation,
                                            city_only=i.city_only, task_number=i.task_number,
                                            campaign_code=i.campaign_code)
                      for i in session.exec(select(Indicator).where(Indicator.retired == False))}  # noqa: E712
        leads: dict[int, list[str]] = {}
        for row in session.exec(select(TaskLeadDepartment).order_by(TaskLeadDepartment.position)):
            leads.setdefault(row.task_number, []).append(row.department)
        snapshot = CatalogSnapshot(indicators=indicators, org_units=frozenset(session.exec(select(OrgUnit.code))),
                                   lead_departments={k: tuple(v) for k, v in leads.items()})
        with _lock:
            _snapshots[engine] = snapshot
    return snapshot


def drop_catalog_snapshot(session: Session) -> None:
    with _lock:
        _snapshots.pop(session.get_bind().engine, None)
