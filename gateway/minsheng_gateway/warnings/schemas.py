from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from minsheng.progress.model import Status


class Warning(BaseModel):
    kind: str  # indicator | task | overdue (逾期未报, warnings/overdue.py)
    id: str  # indicator code or task number
    name: str
    campaign: str
    task_number: int | None
    org_unit: str
    org_unit_name: str
    status: Status
    status_label: str
    since: dt.datetime
    lead_departments: list[str]
    reasons: list[str]
