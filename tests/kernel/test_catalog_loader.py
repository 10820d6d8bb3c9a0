"""Seeding is idempotent and a corrected catalog updates rows in place (PostgreSQL)."""

import pytest
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, create_engine, select

from minsheng.catalog.document import CampaignDoc, MilestoneBasis
from minsheng.catalog.loader import apply_catalog, diff_catalogs
from minsheng.catalog.models import (
    DistrictTarget,
    Indicator,
    IndicatorMilestone,
    OrgUnit,
    Task,
    TaskLeadDepartment,
    TaskPartnerDepartment,
)
from minsheng.catalog.service import export_catalog
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db.migrations import upgrade_to_head
from tests.conftest import campaign_module


def _database(make_database):
    module = campaign_module("education")
    url = make_database("loader")
    upgrade_to_head(module.migration_plan, url)
    return create_engine(url), module.service.catalog


def _counts(session: Session) -> dict:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Task, Indicator, TaskLeadDepartment, DistrictTarget, OrgUnit)
    }


def test_seeding_twice_changes_nothing(make_database):
    engine, doc = _database(make_database)
    with Session(engine) as session:
        first = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()
        before = _counts(session)
        second = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()
        assert first.changed and not second.changed
        assert (
            _counts(session)
            == before
            == {
                "Task": 27,
                "Indicator": 19,
                "TaskLeadDepartment": before["TaskLeadDepartment"],
                "DistrictTarget": 3,
                "OrgUnit": 12,
            }
        )
    engine.dispose()


def test_a_corrected_file_updates_in_place_and_retires_what_was_removed(make_database):
    engine, doc = _database(make_database)
    with Session(engine) as session:
        apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()

    raw = doc.model_dump(mode="json")
    task2 = raw["items"][0]["tasks"][1]
    task2["title"] = "建设公办幼儿园（修订）"
    task2["lead_departments"] = ["市教育局"]  # 市自然资源和规划局 removed
    kindergartens = task2["indicators"][0]
    assert kindergartens["code"] == "T002-1"
    kindergartens["name"] = "新改扩建公办幼儿园（处）"
    removed = task2["indicators"].pop()  # a wrongly extracted indicator is taken out of the file
    corrected = CampaignDoc.model_validate(raw)

    with Session(engine) as session:
        changes = apply_catalog(session=session, doc=corrected, catalog=CatalogCache())
        session.commit()
        assert "indicator T002-1" in changes.updated and f"indicator {removed['code']}" in changes.retired
        row = session.get(Indicator, "T002-1")
        assert row.name == "新改扩建公办幼儿园（处）" and not row.retired
        # Zhangdian's target stays attached to the same indicator row, not duplicated.
        targets = session.exec(select(DistrictTarget).where(DistrictTarget.indicator_code == "T002-1")).all()
        assert [(t.org_unit_code, t.target_value) for t in targets] == [("370303", 10)]
        assert session.get(Indicator, removed["code"]).retired  # kept for history, hidden from lists
        departments = session.exec(
            select(TaskLeadDepartment.department).where(TaskLeadDepartment.task_number == 2)
        ).all()
        assert departments == ["市教育局"]
        assert session.get(Task, 2).title == "建设公办幼儿园（修订）"

    with Session(engine) as session:  # and the original file brings the indicator back
        changes = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()
        assert not session.get(Indicator, removed["code"]).retired
    engine.dispose()


def test_annual_and_quarterly_targets_are_stored_and_exported_as_the_file_says(make_database):
    engine, doc = _database(make_database)
    raw = doc.model_dump(mode="json")
    groups = raw["items"][1]["tasks"][-1]["indicators"][0]
    assert groups["code"] == "T007-1"
    (annual,) = groups["milestones"]  # 培育20个集团化办学样板 (seed 002)
    assert (annual["year"], annual["basis"]) == (2023, "year_flow")
    quarter = {**annual, "quarter": 2, "value": 10, "source": "上半年培育10个集团化办学样板"}
    groups["milestones"] = [quarter, annual]
    with_quarter = CampaignDoc.model_validate(raw)

    with Session(engine) as session:
        apply_catalog(session=session, doc=with_quarter, catalog=CatalogCache())
        session.commit()
        rows = session.exec(
            select(IndicatorMilestone)
            .where(IndicatorMilestone.indicator_code == "T007-1")
            .order_by(IndicatorMilestone.id)
        ).all()
        assert [(m.year, m.quarter, m.basis, m.value) for m in rows] == [
            (2023, 2, MilestoneBasis.year_flow, 10),
            (2023, None, MilestoneBasis.year_flow, 20),
        ]
        assert export_catalog(session=session, campaign="education") == with_quarter

    with Session(engine) as session:  # the file without the quarter: the quarter's row goes
        changes = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()
        assert changes.updated == ["indicator T007-1 milestone 2023Q2 year_flow removed"]
        assert export_catalog(session=session, campaign="education") == doc
    engine.dispose()


def test_partner_departments_are_stored_exported_and_left_out_of_a_document_without_them(make_database):
    engine, doc = _database(make_database)
    assert "partner_departments" not in doc.model_dump_json()  # the 2022–2024 plan names lead departments only
    raw = doc.model_dump(mode="json")
    task2 = raw["items"][0]["tasks"][1]
    task2["partner_departments"] = ["市住房城乡建设局", "张店区", "各区县（功能区）"]
    with_partners = CampaignDoc.model_validate(raw)

    with Session(engine) as session:
        apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        changes = apply_catalog(session=session, doc=with_partners, catalog=CatalogCache())
        session.commit()
        assert changes.created == [f"task 2 partner department {name}" for name in task2["partner_departments"]]
        partners = session.exec(
            select(TaskPartnerDepartment.department)
            .where(TaskPartnerDepartment.task_number == 2)
            .order_by(TaskPartnerDepartment.position)
        ).all()
        assert partners == ["市住房城乡建设局", "张店区", "各区县（功能区）"]
        exported = export_catalog(session=session, campaign="education")
        assert exported == with_partners and exported.items[0].tasks[1].partner_departments[0] == "市住房城乡建设局"
        assert '"partner_departments"' in exported.model_dump_json()

    with Session(engine) as session:  # the file without them: they go, the leads stay
        changes = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        session.commit()
        assert sorted(changes.updated) == [
            f"task 2 partner department {name} removed"
            for name in sorted(["市住房城乡建设局", "张店区", "各区县（功能区）"])
        ]
        assert export_catalog(session=session, campaign="education") == doc
    engine.dispose()


def test_a_department_cannot_both_lead_and_partner_a_task():
    raw = campaign_module("education").service.catalog.model_dump(mode="json")
    raw["items"][0]["tasks"][1]["partner_departments"] = ["市教育局"]
    with pytest.raises(ValidationError, match="both lead and partner"):
        CampaignDoc.model_validate(raw)


def test_the_diff_of_two_documents_is_what_applying_the_second_over_the_first_reports(make_database):
    """`diff_catalogs` is pure (the gateway's dry run of an amendment asks it without writing) and is what
    `apply_catalog` reports: the same labels, created, updated and retired."""
    engine, doc = _database(make_database)
    raw = doc.model_dump(mode="json")
    task2 = raw["items"][0]["tasks"][1]
    task2["lead_departments"] = ["市教育局"]
    task2["indicators"][0]["name"] = "新改扩建公办幼儿园（处）"
    removed = task2["indicators"].pop()
    quarter = raw["items"][1]["tasks"][-1]["indicators"][0]["milestones"][0]
    raw["items"][1]["tasks"][-1]["indicators"][0]["milestones"].insert(
        0, {**quarter, "quarter": 2, "value": 10, "source": "上半年培育10个集团化办学样板"}
    )
    corrected = CampaignDoc.model_validate(raw)

    diff = diff_catalogs(doc, corrected)
    assert diff.created == ["indicator T007-1 milestone 2023Q2 year_flow"]
    assert diff.updated == ["task 2 lead department 市自然资源和规划局 removed", "indicator T002-1"]
    assert diff.retired == [f"indicator {removed['code']}"]
    assert not diff_catalogs(corrected, corrected).changed
    everything = diff_catalogs(None, doc)
    assert not everything.updated and not everything.retired
    assert {"campaign education", "task 2", "indicator T002-1", "indicator T002-1 target 370303"} <= set(
        everything.created
    )

    with Session(engine) as session:
        first = apply_catalog(session=session, doc=doc, catalog=CatalogCache())
        assert [label for label in first.created if not label.startswith("org_unit")] == everything.created
        session.commit()
        applied = apply_catalog(session=session, doc=corrected, catalog=CatalogCache())
        assert (applied.created, applied.updated, applied.retired) == (diff.created, diff.updated, diff.retired)
        session.commit()
    engine.dispose()
