"""Catalog documents as tests need them: a campaign's catalog with rules its catalog.yaml does not set."""

from __future__ import annotations

from minsheng.catalog.document import CampaignDoc, TaskDoc


def requiring_evidence(doc: CampaignDoc, indicators: set[str], tasks: set[int]) -> CampaignDoc:
    """The campaign's catalog with 须附佐证 set where named (the 2022–2024 catalog.yaml sets it nowhere)."""

    def task_of(task: TaskDoc) -> TaskDoc:
        marked = tuple(i.model_copy(update={"evidence_required": i.code in indicators}) for i in task.indicators)
        return task.model_copy(update={"evidence_required": task.number in tasks, "indicators": marked})

    items = tuple(item.model_copy(update={"tasks": tuple(task_of(t) for t in item.tasks)}) for item in doc.items)
    return doc.model_copy(update={"items": items})
