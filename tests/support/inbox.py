"""我的待办 as the gateway tests read it: a day in the reporting of March 2023, reports made in the service."""

from __future__ import annotations

import datetime as dt

TODAY = dt.date(2023, 4, 5)  # March is being reported (due 04-10); February was due 03-10


def report(education, body, headers) -> int:
    created = education.post("/api/v1/reports", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def inbox(gateway, **params) -> dict:
    answer = gateway.get("/api/v1/inbox", params={"limit": 500, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()
