"""Loading a campaign's catalog into a database, idempotently.

`apply_catalog` is an upsert keyed by natural keys: running it twice changes
nothing, a corrected file updates rows in place (reports attached to an
indicator stay attached), and rows that left the file are retired, not deleted.
Services apply their own `catalog.yaml` on start-up; the gateway applies the
same documents it receives from the services.  What a new document changes is
`diff_catalogs`, a pure comparison of two documents: `apply_catalog` reports it,
and the gateway's dry run of an amendment asks it before anything is sent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, select

from minsheng.catalog.document import CampaignDoc, IndicatorDoc, MilestoneBasis, PlanDoc, PlanState
from minsheng.catalog.models import (
    Campaign,
    DistrictTarget,
    Indicator,
    IndicatorMilestone,
    OrgUnit,
    Plan,
    Task,
    TaskLeadDepartment,
    TaskPartnerDepartment,
    WorkItem,
)
from minsheng.catalog.snapshot import CatalogCache
from minsheng.orgunits import CITY_CODE, ORG_UNITS

log = logging.getLogger(__name__)


def read_catalog_file(path: Path) -> CampaignDoc:
    with path.open(encoding="utf-8") as f:
        return CampaignDoc.model_validate(yaml.safe_load(f))


@dataclass
class CatalogChanges:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.retired)} retired"


# pg_advisory_xact_lock(class, key): "one catalog writer at a time in this database" ("cat"), apart from the series
# locks ("ser") and the relay's one-key lock.
CATALOG_LOCK = (0x636174, 0)


def lock_catalog(session: Session) -> None:
    """Until the transaction ends.  Writers of the same catalog rows (the gateway's catalog pull and its consumer
    folding catalog.published; the campaigns sharing the org units and the plan) then take turns, and the second
    reads what the first committed: an upsert, never a duplicate key.  Taken again in one transaction, it stacks."""
    session.connection().exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", CATALOG_LOCK)


def _upsert(
    session: Session, changes: CatalogChanges, model: type[SQLModel], key: tuple, label: str, **values
) -> SQLModel:
    row = session.get(model, key if len(key) > 1 else key[0])
    if row is None:
        row = model(**dict(zip(_pk_names(model), key, strict=True)), **values)
        session.add(row)
        changes.created.append(label)
        return row
    dirty = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            dirty = True
    if dirty:
        session.add(row)
        changes.updated.append(label)
    return row


def _pk_names(model: type[SQLModel]) -> list[str]:
    return [column.name for column in model.__table__.primary_key.columns]


def apply_org_units(*, session: Session) -> CatalogChanges:
    lock_catalog(session)
    changes = CatalogChanges()
    for unit in ORG_UNITS:
        parent = None if unit.code == CITY_CODE else CITY_CODE
        _upsert(
            session,
            changes,
            OrgUnit,
            (unit.code,),
            f"org_unit {unit.code}",
            name=unit.name,
            kind=unit.kind,
            parent_code=parent,
        )
    session.flush()
    return changes


def apply_plan(*, session: Session, changes: CatalogChanges, plan: PlanDoc) -> None:
    """The plan's row as `plan` says, except that a closed plan stays closed (closing is the city office's act,
    and a service re-applying its catalog file at start-up must not reopen it)."""
    lock_catalog(session)
    stored = session.get(Plan, plan.code)
    state = PlanState.closed if stored is not None and stored.state is PlanState.closed else plan.state
    _upsert(
        session,
        changes,
        Plan,
        (plan.code,),
        f"plan {plan.code}",
        name=plan.name,
        document_number=plan.document_number,
        start_date=plan.start,
        end_date=plan.end,
        state=state,
        legacy=plan.legacy,
        scoring=[rule.model_dump(mode="json") for rule in plan.scoring],
    )
    session.flush()


def catalog_digest(doc: CampaignDoc) -> str:
    """A fingerprint of the document as validated.  Two equal documents whose mappings were written in
    another order may differ: then the receiver applies (idempotently) instead of skipping."""
    return hashlib.sha256(doc.model_dump_json().encode("utf-8")).hexdigest()


def applied_digest(session: Session, campaign: str) -> str | None:
    """The digest of the document `apply_catalog` last applied for this campaign (None: unknown)."""
    return session.exec(select(Campaign.catalog_digest).where(Campaign.code == campaign)).first()


def holds_catalog(session: Session, doc: CampaignDoc) -> bool:
    """True if `apply_catalog` last applied exactly this document here: a receiver of the same
    document again (the gateway, at every pull and every catalog.published) can skip it."""
    return applied_digest(session, doc.code) == catalog_digest(doc)


def stored_catalog(session: Session, campaign: str) -> CampaignDoc | None:
    """The campaign's catalog as the session's tables hold it (what `diff_catalogs` compares a new document with);
    None if none was applied, or if the rows no longer make a valid document (then all counts as new)."""
    from minsheng.catalog.service import export_catalog

    if session.get(Campaign, campaign) is None:
        return None
    try:
        return export_catalog(session=session, campaign=campaign)
    except ValidationError:
        log.warning("catalog %s: the stored rows are no valid document; compared as if empty", campaign)
        return None


def diff_catalogs(old: CampaignDoc | None, new: CampaignDoc) -> CatalogChanges:
    """What bringing a campaign's catalog from `old` (None: none yet) to `new` changes, in `apply_catalog`'s labels
    (`plan X`, `campaign X`, `item N`, `task N`, `task N lead department D`, `indicator C`, `indicator C milestone
    2025Q2 year_flow`, `indicator C target 370303`; a child that goes is an update of its parent, `… removed`).
    Pure: the gateway's dry run of an amendment asks it of its own copy.  Work items are never retired, and a closed
    plan stays closed (as `apply_plan` keeps it)."""
    changes = CatalogChanges()

    def compare(label: str, before: object, after: object) -> None:
        if before is None:
            changes.created.append(label)
        elif before != after:
            changes.updated.append(label)

    plan = new.plan
    if old is not None and old.plan.state is PlanState.closed:
        plan = plan.model_copy(update={"state": PlanState.closed})
    compare(f"plan {plan.code}", old.plan if old else None, plan)
    compare(f"campaign {new.code}", _campaign_fields(old) if old else None, _campaign_fields(new))

    before_items = {item.number: item.title for item in old.items} if old else {}
    before_tasks = {task.number: (item.number, task) for item in old.items for task in item.tasks} if old else {}
    before_indicators = {
        indicator.code: (task_number, position, indicator) for task_number, position, indicator in _placed(old)
    }
    after_indicators: set[str] = set()

    def indicator(task_number: int | None, position: int, doc: IndicatorDoc) -> None:
        after_indicators.add(doc.code)
        known = before_indicators.get(doc.code)
        compare(
            f"indicator {doc.code}",
            _indicator_fields(*known) if known else None,
            _indicator_fields(task_number, position, doc),
        )
        label = f"indicator {doc.code}"
        before = known[2] if known else None
        milestones = {(m.year, m.quarter, m.basis): m for m in before.milestones} if before else {}
        wanted = {(m.year, m.quarter, m.basis): m for m in doc.milestones}
        changes.updated.extend(
            f"{label} milestone {_milestone_label(*key)} removed" for key in milestones if key not in wanted
        )
        for key, milestone in wanted.items():
            compare(f"{label} milestone {_milestone_label(*key)}", milestones.get(key), milestone)
        targets = {t.org_unit: t for t in before.district_targets} if before else {}
        wanted_targets = {t.org_unit: t for t in doc.district_targets}
        changes.updated.extend(f"{label} target {unit} removed" for unit in targets if unit not in wanted_targets)
        for unit, target in wanted_targets.items():
            compare(f"{label} target {unit}", targets.get(unit), target)

    for position, headline in enumerate(new.indicators):
        indicator(None, position, headline)
    after_tasks: set[int] = set()
    for item in new.items:
        compare(f"item {item.number}", before_items.get(item.number), item.title)
        for task in item.tasks:
            after_tasks.add(task.number)
            known = before_tasks.get(task.number)
            compare(f"task {task.number}", _task_fields(*known) if known else None, _task_fields(item.number, task))
            for role, attribute in (("lead", "lead_departments"), ("partner", "partner_departments")):
                before, after = list(getattr(known[1], attribute)) if known else [], getattr(task, attribute)
                changes.updated.extend(
                    f"task {task.number} {role} department {name} removed" for name in before if name not in after
                )
                for position, name in enumerate(after):
                    compare(
                        f"task {task.number} {role} department {name}",
                        before.index(name) if name in before else None,
                        position,
                    )
            for position, child in enumerate(task.indicators):
                indicator(task.number, position, child)
    changes.retired.extend(f"task {number}" for number in before_tasks if number not in after_tasks)
    changes.retired.extend(f"indicator {code}" for code in before_indicators if code not in after_indicators)
    return changes


def _campaign_fields(doc: CampaignDoc) -> tuple:
    return (doc.number, doc.name, doc.title, doc.plan.code)


def _task_fields(item_number: int, task) -> dict:  # noqa: ANN001 - a TaskDoc
    return {"item": item_number, **task.model_dump(exclude={"indicators", "lead_departments", "partner_departments"})}


def _indicator_fields(task_number: int | None, position: int, doc: IndicatorDoc) -> dict:
    return {"task": task_number, "position": position, **doc.model_dump(exclude={"milestones", "district_targets"})}


def _placed(doc: CampaignDoc | None) -> list[tuple[int | None, int, IndicatorDoc]]:
    """Every indicator of the document with where it stands: its task (None: a headline one) and position there."""
    if doc is None:
        return []
    placed = [(None, position, indicator) for position, indicator in enumerate(doc.indicators)]
    for item in doc.items:
        for task in item.tasks:
            placed += [(task.number, position, indicator) for position, indicator in enumerate(task.indicators)]
    return placed


def apply_catalog(*, session: Session, doc: CampaignDoc, catalog: CatalogCache) -> CatalogChanges:
    """Bring the database's rows for this campaign to exactly what `doc` says, and drop the process's
    `catalog` snapshot of them. Does not commit.  One writer at a time (`lock_catalog`, taken by apply_org_units)."""
    changes = apply_org_units(session=session)
    # What changes is said by comparing documents (`diff_catalogs`, the dry run's comparison too); the writes below
    # only bring the rows there, their own bookkeeping (`written`) discarded.
    diff = diff_catalogs(stored_catalog(session, doc.code), doc)
    for name in ("created", "updated", "retired"):
        getattr(changes, name).extend(getattr(diff, name))
    written = CatalogChanges()
    apply_plan(session=session, changes=written, plan=doc.plan)
    _upsert(
        session,
        written,
        Campaign,
        (doc.code,),
        f"campaign {doc.code}",
        number=doc.number,
        name=doc.name,
        title=doc.title,
        plan_code=doc.plan.code,
    )
    session.flush()

    seen_tasks: set[int] = set()
    seen_indicators: set[str] = set()
    for position, headline in enumerate(doc.indicators):
        _apply_indicator(session, written, doc.code, None, position, headline)
        seen_indicators.add(headline.code)
    for item in doc.items:
        _upsert(
            session, written, WorkItem, (item.number,), f"item {item.number}", campaign_code=doc.code, title=item.title
        )
        session.flush()
        for task in item.tasks:
            seen_tasks.add(task.number)
            _upsert(
                session,
                written,
                Task,
                (task.number,),
                f"task {task.number}",
                campaign_code=doc.code,
                item_number=item.number,
                title=task.title,
                text=task.text,
                deadline=task.deadline,
                evidence_required=task.evidence_required,
                retired=False,
            )
            session.flush()
            _apply_departments(session, written, TaskLeadDepartment, "lead", task.number, task.lead_departments)
            _apply_departments(
                session, written, TaskPartnerDepartment, "partner", task.number, task.partner_departments
            )
            for position, indicator in enumerate(task.indicators):
                _apply_indicator(session, written, doc.code, task.number, position, indicator)
                seen_indicators.add(indicator.code)

    for task in session.exec(select(Task).where(Task.campaign_code == doc.code, Task.retired == False)):  # noqa: E712
        if task.number not in seen_tasks:
            task.retired = True
            session.add(task)
            written.retired.append(f"task {task.number}")
    for indicator in session.exec(
        select(Indicator).where(Indicator.campaign_code == doc.code, Indicator.retired == False)  # noqa: E712
    ):
        if indicator.code not in seen_indicators:
            indicator.retired = True
            session.add(indicator)
            written.retired.append(f"indicator {indicator.code}")
    session.flush()
    catalog.drop()
    # Last, once the rows say what `doc` says (not a change of its own).
    campaign = session.get(Campaign, doc.code)
    campaign.catalog_digest = catalog_digest(doc)
    session.add(campaign)
    session.flush()
    return changes


def _apply_departments(
    session: Session,
    changes: CatalogChanges,
    model: type[TaskLeadDepartment] | type[TaskPartnerDepartment],
    role: str,
    task_number: int,
    departments: tuple[str, ...],
) -> None:
    """A task's lead (or partner) departments, in the document's order: the file is their only source."""
    existing = {row.department: row for row in session.exec(select(model).where(model.task_number == task_number))}
    for name, row in existing.items():
        if name not in departments:
            session.delete(row)
            changes.updated.append(f"task {task_number} {role} department {name} removed")
    for position, name in enumerate(departments):
        _upsert(
            session,
            changes,
            model,
            (task_number, name),
            f"task {task_number} {role} department {name}",
            position=position,
        )


def _apply_indicator(
    session: Session, changes: CatalogChanges, campaign: str, task_number: int | None, position: int, doc: IndicatorDoc
) -> None:
    _upsert(
        session,
        changes,
        Indicator,
        (doc.code,),
        f"indicator {doc.code}",
        campaign_code=campaign,
        task_number=task_number,
        position=position,
        name=doc.name,
        unit=doc.unit,
        target_value=doc.target_value,
        comparator=doc.comparator,
        kind=doc.kind,
        horizon=doc.horizon,
        aggregation=doc.aggregation,
        frequency=doc.frequency,
        city_only=doc.city_only,
        evidence_required=doc.evidence_required,
        baseline_value=doc.baseline_value,
        baseline_year=doc.baseline_year,
        source=doc.source,
        seed=doc.seed,
        retired=False,
        continues_plan=doc.continues.plan if doc.continues else None,
        continues_indicator=doc.continues.indicator if doc.continues else None,
    )
    session.flush()
    # Milestones and district targets belong to the indicator: the file is their only source.
    milestones = {
        (m.year, m.quarter, m.basis): m
        for m in session.exec(select(IndicatorMilestone).where(IndicatorMilestone.indicator_code == doc.code))
    }
    wanted = {(m.year, m.quarter, m.basis): m for m in doc.milestones}
    for key, row in milestones.items():
        if key not in wanted:
            session.delete(row)
            changes.updated.append(f"indicator {doc.code} milestone {_milestone_label(*key)} removed")
    for key, milestone in wanted.items():
        values = {
            "value": milestone.value,
            "comparator": milestone.comparator,
            "source": milestone.source,
            "seed": milestone.seed,
        }
        year, quarter, basis = key
        _sync_child(
            session,
            changes,
            milestones.get(key),
            IndicatorMilestone,
            f"indicator {doc.code} milestone {_milestone_label(*key)}",
            {"indicator_code": doc.code, "year": year, "quarter": quarter, "basis": basis},
            values,
        )

    targets = {
        t.org_unit_code: t
        for t in session.exec(select(DistrictTarget).where(DistrictTarget.indicator_code == doc.code))
    }
    wanted_targets = {t.org_unit: t for t in doc.district_targets}
    for org_unit, row in targets.items():
        if org_unit not in wanted_targets:
            session.delete(row)
            changes.updated.append(f"indicator {doc.code} target {org_unit} removed")
    for org_unit, target in wanted_targets.items():
        values = {"target_value": target.target_value, "source": target.source, "seed": target.seed}
        _sync_child(
            session,
            changes,
            targets.get(org_unit),
            DistrictTarget,
            f"indicator {doc.code} target {org_unit}",
            {"indicator_code": doc.code, "org_unit_code": org_unit},
            values,
        )


def _milestone_label(year: int, quarter: int | None, basis: MilestoneBasis) -> str:
    period = f"{year}" if quarter is None else f"{year}Q{quarter}"
    return period if basis is MilestoneBasis.reached else f"{period} {basis.value}"


def _sync_child(
    session: Session,
    changes: CatalogChanges,
    row: SQLModel | None,
    model: type[SQLModel],
    label: str,
    keys: dict,
    values: dict,
) -> None:
    if row is None:
        session.add(model(**keys, **values))
        changes.created.append(label)
        return
    if any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        session.add(row)
        changes.updated.append(label)


def seed_catalog(*, session: Session, doc: CampaignDoc, catalog: CatalogCache) -> CatalogChanges:
    """Apply and commit; log what changed so an operator sees a corrected file take effect."""
    changes = apply_catalog(session=session, doc=doc, catalog=catalog)
    session.commit()
    catalog.drop()
    if changes.changed:
        log.info("catalog %s applied: %s", doc.code, changes.summary())
    else:
        log.info("catalog %s unchanged", doc.code)
    return changes
