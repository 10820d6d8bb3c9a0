"""Every write to a report series is serialised, whatever path it takes: form submissions (group
commit), bulk writes, Excel uploads, resubmissions and reviews of one indicator × org unit × period
raced against each other on a real service.  Each racer gets its new revision or a clear 409, never a
5xx; the series' revisions stay 1..n with one current revision and every accepted value in it.

Real concurrency: the requests go through `httpx.AsyncClient` over ASGI on one event loop, all at
once (`asyncio.gather`); the service's sync endpoints (bulk, upload, resubmit, return) run in its
thread pool and the form submissions in its group-commit writer, each on its own connection.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import CITY
from tests.support.processes import wait_until

INDICATOR, ORG_UNIT = "T002-1", "370305"
OTHER_ORG_UNIT = "370303"  # a second series written by the bulk writers too, in varying row order
ROUNDS = 4


@dataclass
class Race:
    """What the racers of one series were told."""

    accepted: dict[int, float] = field(default_factory=dict)  # report id → value of each revision written
    answers: list[tuple[str, int, dict]] = field(default_factory=list)  # (what, status, body)
    approved: set[int] = field(default_factory=set)
    returned: set[int] = field(default_factory=set)

    def hear(self, what: str, response: httpx.Response, series: tuple[str, str, str]) -> None:
        is_json = response.headers.get("content-type", "").startswith("application/json")
        body = response.json() if is_json else {"text": response.text}
        self.answers.append((what, response.status_code, body))
        if response.status_code not in (200, 201):
            return
        reports = body["data"] if "data" in body else [body]
        for report in reports:
            if (report["indicator"], report["org_unit"], report["period"]) != series:
                continue
            if what == "approve":
                self.approved.add(report["id"])
            elif what == "return":
                self.returned.add(report["id"])
            else:
                self.accepted[report["id"]] = report["value"]


def row(period: str, value: float, org_unit: str = ORG_UNIT) -> dict:
    return {"indicator": INDICATOR, "org_unit": org_unit, "period": period, "value": value}


def workbook(rows: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["指标编号", "单位代码", "期间", "数值"])
    for r in rows:
        sheet.append([r["indicator"], r["org_unit"], r["period"], r["value"]])
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


async def race(
    client: httpx.AsyncClient,
    period: str,
    base: float,
    *,
    approve=(),
    return_=(),
    resubmit=(),
    forms=6,
    bulks=4,
    first=True,
):
    """Form submissions, bulk writes and Excel uploads of the series (and reviews or resubmissions
    of its revisions, sent `first` or after the others), all at once; the answers, per series.

    A form submission is written soonest (its request hands it to the group-commit writer at once;
    the others wait for a thread, an upload longest): with fewer `forms` and `bulks`, the reviews and
    resubmissions win some of the races."""
    series = (INDICATOR, ORG_UNIT, period)
    other = (INDICATOR, OTHER_ORG_UNIT, period)
    reviews = []
    for report_id in approve:
        reviews.append(("approve", client.post(f"/api/v1/reports/{report_id}/approve", headers=CITY)))
    for report_id in return_:
        body = {"reason": "数值与台账不符，请核对"}
        reviews.append(("return", client.post(f"/api/v1/reports/{report_id}/return", json=body, headers=CITY)))
    for i, report_id in enumerate(resubmit):
        body = {"value": base + 30 + i}
        reviews.append(("resubmit", client.post(f"/api/v1/reports/{report_id}/resubmit", json=body, headers=CITY)))
    writes = []
    for i in range(forms):
        writes.append(("form", client.post("/api/v1/reports", json=row(period, base + i), headers=CITY)))
    for i in range(bulks):
        rows = [row(period, base + 10 + i), row(period, base + 10 + i, OTHER_ORG_UNIT)]
        body = {"rows": rows[:: 1 - 2 * (i % 2)]}  # the two series in either order
        writes.append(("bulk", client.post("/api/v1/reports/bulk", json=body, headers=CITY)))
    for i in range(3):
        rows = [row(period, base + 20 + i, OTHER_ORG_UNIT), row(period, base + 20 + i)]
        files = {"file": (f"第{i}份.xlsx", workbook(rows[:: 1 - 2 * (i % 2)]), "application/octet-stream")}
        writes.append(("upload", client.post("/api/v1/reports/upload", files=files, headers=CITY)))
    calls = reviews + writes if first else writes + reviews
    responses = await asyncio.gather(*(call for _, call in calls))
    mine, theirs = Race(), Race()
    for (what, _), response in zip(calls, responses, strict=True):
        mine.hear(what, response, series)
        theirs.hear(what, response, other)
    return mine, theirs


def assert_answers_are_clear(outcome: Race) -> None:
    """No 5xx: a review or resubmission that lost its race is refused (409, a code and a Chinese
    message); a new value always becomes the next revision (writers wait their turn, none is refused)."""
    for what, status, body in outcome.answers:
        if what in ("form", "bulk", "upload"):
            assert status == 201, f"{what}: {status} {body}"
        else:
            assert status in (200, 201, 409), f"{what}: {status} {body}"
        if status == 409:
            assert body["code"] and any("\u4e00" <= c <= "\u9fff" for c in body["detail"]), body


async def chain(client: httpx.AsyncClient, period: str, org_unit: str = ORG_UNIT) -> list[dict]:
    query = {"indicator": INDICATOR, "org_unit": org_unit, "period": period, "current_only": "false", "limit": 200}
    response = await client.get("/api/v1/reports", params=query, headers=CITY)
    assert response.status_code == 200, response.text
    return sorted(response.json()["data"], key=lambda r: r["revision"])


async def assert_chain_holds(client: httpx.AsyncClient, period: str, outcome: Race, org_unit: str = ORG_UNIT):
    """Revisions 1..n, one current (the last), and every accepted revision in it with its value."""
    revisions = await chain(client, period, org_unit)
    assert [r["revision"] for r in revisions] == list(range(1, len(revisions) + 1))
    assert [r["is_current"] for r in revisions] == [False] * (len(revisions) - 1) + [True]
    stored = {r["id"]: r["value"] for r in revisions}
    assert {i: stored.get(i) for i in outcome.accepted} == outcome.accepted  # no accepted write lost
    statuses = {r["id"]: r["status"] for r in revisions}
    assert all(statuses[i] == "approved" for i in outcome.approved)
    assert all(statuses[i] == "returned" for i in outcome.returned)
    return revisions


def keep(written: dict[str, Race], outcomes: tuple[Race, Race]) -> None:
    """Each racer's answer is clear; what was accepted, approved and returned is kept for the chain's checks."""
    for org_unit, outcome in zip((ORG_UNIT, OTHER_ORG_UNIT), outcomes, strict=True):
        assert_answers_are_clear(outcome)
        written[org_unit].accepted |= outcome.accepted
        written[org_unit].approved |= outcome.approved
        written[org_unit].returned |= outcome.returned


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def test_every_path_raced_on_one_series_keeps_a_gapless_chain_and_answers_2xx_or_409(education):
    async def rounds() -> None:
        # An exception the app lets escape is answered 500, as a server would, not raised here.
        transport = httpx.ASGITransport(app=education.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as client:
            for n in range(ROUNDS):
                period = f"2023-{n + 1:02d}"
                base = 1000.0 * (n + 1)
                written: dict[str, Race] = {ORG_UNIT: Race(), OTHER_ORG_UNIT: Race()}

                # A new series: no current revision yet for the writers to line up on.
                keep(written, await race(client, period, base))
                await assert_chain_holds(client, period, written[ORG_UNIT])
                # An approval and a return of the current revision while new revisions arrive.
                current = (await chain(client, period))[-1]["id"]
                outcomes = await race(
                    client,
                    period,
                    base + 100,
                    approve=[current],
                    return_=[current],
                    forms=6 * (n % 2),
                    first=n % 2 == 0,
                )
                keep(written, outcomes)
                reviewed = [(w, s) for w, s, _ in outcomes[0].answers if w in ("approve", "return") and s == 200]
                assert len(reviewed) <= 1, f"revision {current} both approved and returned: {reviewed}"
                await assert_chain_holds(client, period, written[ORG_UNIT])
                # A returned revision resubmitted (twice at once) while new revisions arrive.
                current = (await chain(client, period))[-1]["id"]
                returned = await client.post(
                    f"/api/v1/reports/{current}/return", json={"reason": "请核对"}, headers=CITY
                )
                assert returned.status_code == 200, returned.text
                outcomes = await race(
                    client,
                    period,
                    base + 200,
                    resubmit=[current, current],
                    forms=6 * (n % 2),
                    bulks=4 * (n % 2),
                    first=n % 2 == 0,
                )
                keep(written, outcomes)
                resubmitted = [s for w, s, _ in outcomes[0].answers if w == "resubmit" and s == 201]
                assert len(resubmitted) <= 1, f"returned revision {current} resubmitted twice"
                revisions = await assert_chain_holds(client, period, written[ORG_UNIT])
                assert len(revisions) == len(written[ORG_UNIT].accepted)  # nothing stored that no one was told of
                others = await assert_chain_holds(client, period, written[OTHER_ORG_UNIT], OTHER_ORG_UNIT)
                assert len(others) == len(written[OTHER_ORG_UNIT].accepted)

    asyncio.run(rounds())


def test_a_revision_number_taken_all_the_same_is_refused_with_409_not_500(education):
    """The safety net behind the series lock: a write whose revision is taken by a row that no writer
    announced (here: written by hand, as a data repair might) is refused in Chinese, nothing stored."""
    first = education.post("/api/v1/reports", json=row("2023-05", 1), headers=CITY)
    assert first.status_code == 201, first.text
    with education.app.state.database.session() as session:
        session.execute(
            sa.text(
                "INSERT INTO report (indicator_code, org_unit_code, period, period_start, period_end, value, "
                "numerator, denominator, note, status, revision, is_current, return_reason, submitted_by, "
                "submitted_at, reviewed_by, reviewed_at) "
                "SELECT indicator_code, org_unit_code, period, period_start, period_end, 2, numerator, denominator, "
                "note, status, 2, false, return_reason, submitted_by, submitted_at, reviewed_by, reviewed_at "
                "FROM report WHERE id = :id"
            ),
            {"id": first.json()["id"]},
        )
        session.commit()
    answers = [
        education.post("/api/v1/reports", json=row("2023-05", 3), headers=CITY),
        education.post("/api/v1/reports/bulk", json={"rows": [row("2023-05", 4)]}, headers=CITY),
        education.post(
            "/api/v1/reports/upload",
            files={"file": ("五月.xlsx", workbook([row("2023-05", 5)]), "application/octet-stream")},
            headers=CITY,
        ),
    ]
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "concurrent_submission" and "请稍后重试" in answer.json()["detail"]
    current = education.get("/api/v1/reports", params={"period": "2023-05", "org_unit": ORG_UNIT}, headers=CITY)
    assert [r["id"] for r in current.json()["data"]] == [first.json()["id"]]  # still the current revision


def test_a_task_status_written_by_many_at_once_gets_one_revision_each(education):
    """A task's qualitative status is a series too (task × org unit × period): eight at once, on a
    series without a revision yet and then on one with, each becomes the next revision."""

    async def rounds() -> list[dict]:
        transport = httpx.ASGITransport(app=education.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as client:
            for n in range(2):
                answers = await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/task-status",
                            json={
                                "task": 1,
                                "org_unit": "370300",
                                "period": "2023Q1",
                                "state": "in_progress",
                                "narrative": f"第{n}轮第{i}次填报",
                            },
                            headers=CITY,
                        )
                        for i in range(8)
                    )
                )
                assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers if a.status_code != 201]
            listed = await client.get("/api/v1/task-status", params={"task": 1, "limit": 100}, headers=CITY)
            return listed.json()["data"], [a.json() for a in answers]

    current, last_round = asyncio.run(rounds())
    assert len(current) == 1 and current[0]["revision"] == 16
    assert sorted(a["revision"] for a in last_round) == list(range(9, 17))


def test_a_write_that_races_one_outside_the_series_lock_answers_409_not_500(education):
    """The last safety net (errors.py): a task status whose current revision is written meanwhile by
    a transaction that took no series lock (here: by hand, as a data repair might) waits for it on the
    unique index of current revisions, then fails on it: 409 in Chinese, with a code, nothing stored."""
    body = {"task": 1, "org_unit": "370300", "period": "2023Q2", "state": "in_progress", "narrative": "按计划推进"}
    engine = education.app.state.database.engine
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"

    def a_write_waits() -> int:
        with engine.connect() as probe:  # a fresh transaction: pg_stat_activity is read once per transaction
            return probe.execute(sa.text(waiting)).scalar()

    with ThreadPoolExecutor(1) as pool, engine.connect() as repair:
        repair.execute(
            sa.text(
                "INSERT INTO task_status_report (task_number, org_unit_code, period, period_end, state, narrative, "
                "problems, revision, is_current, reported_by, reported_at) "
                "VALUES (1, '370300', '2023Q2', '2023-06-30', 'completed', '手工补录', '', 1, true, '数据修复', now())"
            )
        )
        answer = pool.submit(education.post, "/api/v1/task-status", json=body, headers=CITY)
        wait_until(a_write_waits, timeout=30, message="the task status waiting for the repair's row")
        repair.commit()
        response = answer.result(timeout=30)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "concurrent_write" and "请稍后重试" in response.json()["detail"]
    listed = education.get("/api/v1/task-status", params={"task": 1}, headers=CITY).json()["data"]
    assert [(s["narrative"], s["revision"]) for s in listed if s["period"] == "2023Q2"] == [("手工补录", 1)]
