"""佐证材料 in a campaign service, on PostgreSQL and the session's real SeaweedFS: upload to the pending area,
attach on save (report and attachments in one transaction, the event with the files' digests), revisions keep
their files, the clean-up removes what was never attached, the permission rules, the bad inputs, and the store
away (503 with Retry-After; reports without files go on; nothing half-written)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from PIL import Image

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.loader import seed_catalog
from minsheng.evidence import service as evidence_service
from minsheng.evidence.storage import ObjectStore
from minsheng.messaging import IntegrationEvent
from minsheng_education.main import service as education_service
from minsheng_gateway.identity.tokens import FreshBearer
from tests.conftest import (
    CITY,
    EDU_BUREAU,
    HEALTH_BUREAU,
    INTEGRATION,
    VIEWER,
    ZHANGDIAN,
    campaign_module,
    free_port,
)
from tests.support import evidence_files as files
from tests.support.catalogs import requiring_evidence
from tests.support.evidence_service import report, start
from tests.support.identity import SIGNER

ZICHUAN = FreshBearer(
    SIGNER, Principal(account_id=90, name="淄川区 测试用户", role=Role.district, org_unit="370302"), CAMPAIGN_CODES
)
ZHANGDIAN_TOO = FreshBearer(  # another account of the same district
    SIGNER, Principal(account_id=91, name="张店区 另一用户", role=Role.district, org_unit="370303"), CAMPAIGN_CODES
)


@pytest.fixture
def education(make_database, object_store):
    client = start(make_database, object_store)
    yield client
    client.__exit__(None, None, None)


def upload(client, name: str, content: bytes, headers=ZHANGDIAN) -> httpx.Response:
    return client.post("/api/v1/evidence", files={"file": (name, content)}, headers=headers)


def store_of(client) -> ObjectStore:
    return client.app.state.evidence_store


def stored_keys(client) -> set[str]:
    return {key for key, _ in store_of(client).list_keys()}


def rows(client, sql: str, **params) -> list:
    with client.app.state.database.session() as session:
        return session.connection().execute(sa.text(sql), params).all()


def events_of(client, report_id: int) -> list[dict]:
    payloads = rows(client, "SELECT payload FROM outbox_event ORDER BY id")
    found = [IntegrationEvent.from_json_bytes(p).data for (p,) in payloads]
    return [e for e in found if e.get("report", {}).get("report_id") == report_id]


# ---- upload, attach, read --------------------------------------------------------------------------------


def test_a_clerk_uploads_a_photo_and_a_pdf_and_saves_them_with_a_report(education):
    photo = upload(education, "长者食堂.jpg", files.jpeg(gps=True))
    assert photo.status_code == 201, photo.text
    pdf = upload(education, "验收证书.pdf", files.pdf())
    assert pdf.status_code == 201, pdf.text
    photo, pdf = photo.json(), pdf.json()
    assert (photo["kind"], photo["state"], photo["has_thumbnail"]) == ("jpeg", "pending", True)
    assert (pdf["kind"], pdf["media_type"], pdf["has_thumbnail"]) == ("pdf", "application/pdf", False)

    saved = education.post(
        "/api/v1/reports",
        json=report(evidence=[(photo["id"], "长者食堂外景"), (pdf["id"], "竣工验收证书")]),
        headers=ZHANGDIAN,
    )
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert [(f["filename"], f["caption"], f["state"]) for f in body["evidence"]] == [
        ("长者食堂.jpg", "长者食堂外景", "attached"),
        ("验收证书.pdf", "竣工验收证书", "attached"),
    ]

    # What is stored is what the digest says, and the photo no longer says where it was taken.
    content = education.get(f"/api/v1/evidence/{photo['id']}/content", headers=ZHANGDIAN)
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["content-disposition"].startswith("inline;")
    assert hashlib.sha256(content.content).hexdigest() == photo["sha256"]
    assert not Image.open(io.BytesIO(content.content)).getexif()
    thumbnail = education.get(f"/api/v1/evidence/{photo['id']}/thumbnail", headers=ZHANGDIAN)
    assert thumbnail.status_code == 200 and Image.open(io.BytesIO(thumbnail.content)).format == "JPEG"
    assert education.get(f"/api/v1/evidence/{pdf['id']}/content", headers=CITY).content == files.pdf()

    # The event says how many files and their digests; the history record (and the audit export) names them.
    [event] = events_of(education, body["id"])
    assert event["evidence"] == {"count": 2, "sha256": [photo["sha256"], pdf["sha256"]]}
    [(current,)] = rows(education, "SELECT current FROM change_record WHERE entity_id = :id", id=str(body["id"]))
    assert [e["sha256"] for e in json.loads(current)["evidence"]] == [photo["sha256"], pdf["sha256"]]
    # The audit export lists them with their SHA-256.
    audit = education.get("/api/v1/audit/changes", params={"period": "2022-06", "format": "csv"}, headers=CITY)
    assert f"长者食堂.jpg  SHA-256 {photo['sha256']}" in audit.content.decode("utf-8-sig")
    # Stored under random keys, never under the names people gave.
    assert all("长者" not in key and ".pdf" not in key for key in stored_keys(education))


def test_a_report_without_files_has_no_evidence_in_its_event(education):
    saved = education.post("/api/v1/reports", json=report(), headers=ZHANGDIAN).json()
    assert saved["evidence"] == []
    [event] = events_of(education, saved["id"])
    assert "evidence" not in event  # the event is what it always was


def test_a_replaced_revision_keeps_its_files_and_the_next_may_keep_them_too(education):
    photo = upload(education, "照片.jpg", files.jpeg()).json()
    first = education.post("/api/v1/reports", json=report(evidence=[(photo["id"], "")]), headers=ZHANGDIAN).json()
    second = education.post("/api/v1/reports", json=report(value=3), headers=ZHANGDIAN).json()
    third = education.post(
        "/api/v1/reports", json=report(value=4, evidence=[(photo["id"], "沿用")]), headers=ZHANGDIAN
    ).json()
    history = education.get(f"/api/v1/reports/{third['id']}/history", headers=ZHANGDIAN).json()
    files_by_revision = {r["revision"]: [f["id"] for f in r["evidence"]] for r in history["revisions"]}
    assert files_by_revision == {1: [photo["id"]], 2: [], 3: [photo["id"]]}
    assert first["id"] != second["id"] != third["id"]
    # Nothing takes it away: not its uploader, not the clean-up, however late.
    assert education.delete(f"/api/v1/evidence/{photo['id']}", headers=ZHANGDIAN).status_code == 403
    evidence_service.upkeep_once(education.app, at=dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    assert education.get(f"/api/v1/evidence/{photo['id']}/content", headers=ZHANGDIAN).status_code == 200


def test_an_approved_revision_keeps_its_files(education):
    pdf = upload(education, "证书.pdf", files.pdf()).json()
    saved = education.post("/api/v1/reports", json=report(evidence=[(pdf["id"], "")]), headers=ZHANGDIAN).json()
    assert education.post(f"/api/v1/reports/{saved['id']}/approve", headers=CITY).status_code == 200
    again = education.get(f"/api/v1/reports/{saved['id']}", headers=CITY).json()
    assert again["status"] == "approved" and [f["id"] for f in again["evidence"]] == [pdf["id"]]


def test_bulk_and_task_status_take_files_too(education):
    pdf = upload(education, "名单.pdf", files.pdf(), headers=EDU_BUREAU).json()
    sheet = upload(education, "台账.xlsx", files.xlsx(), headers=EDU_BUREAU).json()
    bulk = education.post(
        "/api/v1/reports/bulk",
        json={"rows": [report(org_unit="370300", evidence=[(pdf["id"], "名单")])]},
        headers=EDU_BUREAU,
    )
    assert bulk.status_code == 201, bulk.text
    assert [f["id"] for f in bulk.json()["data"][0]["evidence"]] == [pdf["id"]]
    status = education.post(
        "/api/v1/task-status",
        json={
            "task": 1,
            "org_unit": "370300",
            "period": "2022-06",
            "state": "in_progress",
            "narrative": "推进中",
            "evidence": [{"id": sheet["id"], "caption": "台账"}],
        },
        headers=EDU_BUREAU,
    )
    assert status.status_code == 201, status.text
    assert [(f["kind"], f["caption"]) for f in status.json()["evidence"]] == [("xlsx", "台账")]
    payloads = [IntegrationEvent.from_json_bytes(p) for (p,) in rows(education, "SELECT payload FROM outbox_event")]
    [reported] = [e.data for e in payloads if e.type == "minsheng.task_status.reported.v1"]
    assert reported["evidence"] == {"count": 1, "sha256": [sheet["sha256"]]}


# ---- 须附佐证: what the catalog requires ---------------------------------------------------------------------


@pytest.fixture
def strict(education):
    """The education service with T002-1 and task 1 requiring evidence, applied as the service applies its catalog."""
    with education.app.state.database.session() as session:
        doc = requiring_evidence(education_service.catalog, {"T002-1"}, {1})
        seed_catalog(session=session, doc=doc, catalog=education.app.state.catalog)
    return education


def task_status(task=1, evidence=()):
    return {
        "task": task,
        "org_unit": "370300",
        "period": "2022-06",
        "state": "in_progress",
        "narrative": "推进中",
        "evidence": [{"id": i, "caption": c} for i, c in evidence],
    }


def sheet_of(rows_: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["指标编号", "单位代码", "期间", "数值"])
    for r in rows_:
        book.active.append([r["indicator"], r["org_unit"], r["period"], r["value"]])
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def test_the_catalog_serves_what_requires_evidence(strict):
    assert strict.get("/api/v1/indicators/T002-1").json()["evidence_required"] is True
    assert strict.get("/api/v1/indicators/T002-2").json()["evidence_required"] is False
    tasks = {t["number"]: t for t in strict.get("/api/v1/tasks", params={"limit": 500}).json()["data"]}
    assert (tasks[1]["evidence_required"], tasks[2]["evidence_required"]) == (True, False)
    assert strict.get("/api/v1/catalog").json()["items"][0]["tasks"][0]["evidence_required"] is True


def test_the_legacy_catalog_requires_no_evidence(education):
    indicators = education.get("/api/v1/indicators", params={"limit": 500}).json()["data"]
    assert indicators and not any(i["evidence_required"] for i in indicators)


def test_a_value_requiring_evidence_is_refused_without_it_on_every_path(strict):
    def refused(answer: httpx.Response) -> dict:
        assert answer.status_code == 422, answer.text
        return answer.json()

    # The form (one report): the reason, and the code a client acts on.
    body = refused(strict.post("/api/v1/reports", json=report(), headers=ZHANGDIAN))
    assert body["code"] == "evidence_required"
    assert "T002-1" in body["detail"] and "须附佐证材料" in body["detail"] and "上传" in body["detail"]
    # Bulk: per row, the others (T002-2 requires none) not saved either.
    rows_ = [report(org_unit="370300", indicator="T002-2"), report(org_unit="370300")]
    body = refused(strict.post("/api/v1/reports/bulk", json={"rows": rows_}, headers=EDU_BUREAU))
    assert body["code"] == "bulk_rejected" and "第2行" in body["detail"]
    assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [(2, "evidence", "evidence_required")]
    # An Excel upload (rows carry no files): per row, at the row's indicator cell.
    upload_ = strict.post(
        "/api/v1/reports/upload",
        files={"file": ("六月.xlsx", sheet_of(rows_), "application/octet-stream")},
        headers=EDU_BUREAU,
    )
    body = refused(upload_)
    [error] = body["errors"]
    where = (error["row"], error["column"], error["column_name"])
    assert where == (3, "A", "指标编号") and error["code"] == "evidence_required"
    assert "数据填报" in error["message"]
    # The template says so beside the indicator.
    params = {"period": "2022-06", "org_unit": "370300"}
    template = strict.get("/api/v1/reports/template", params=params, headers=EDU_BUREAU)
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0]
    names = {code: name for code, _, name, *_ in sheet.iter_rows(min_row=2, values_only=True)}
    assert "须附佐证" in names["T002-1"] and "须附佐证" not in names["T002-2"]
    # A task's status.
    body = refused(strict.post("/api/v1/task-status", json=task_status(), headers=EDU_BUREAU))
    assert body["code"] == "evidence_required" and "任务 1" in body["detail"]
    # Nothing was written by any of them.
    assert strict.get("/api/v1/reports", params={"period": "2022-06"}, headers=CITY).json()["count"] == 0
    assert strict.get("/api/v1/task-status", params={"task": 1}, headers=CITY).json()["count"] == 0


def test_a_value_requiring_evidence_is_accepted_with_it(strict):
    photo = upload(strict, "幼儿园.jpg", files.jpeg()).json()
    saved = strict.post("/api/v1/reports", json=report(evidence=[(photo["id"], "竣工照片")]), headers=ZHANGDIAN)
    assert saved.status_code == 201, saved.text
    assert [f["id"] for f in saved.json()["evidence"]] == [photo["id"]]
    pdf = upload(strict, "名单.pdf", files.pdf(), headers=EDU_BUREAU).json()
    rows_ = [report(org_unit="370300", indicator="T002-2"), report(org_unit="370300", evidence=[(pdf["id"], "")])]
    bulk = strict.post("/api/v1/reports/bulk", json={"rows": rows_}, headers=EDU_BUREAU)
    assert bulk.status_code == 201, bulk.text
    sheet = upload(strict, "台账.xlsx", files.xlsx(), headers=EDU_BUREAU).json()
    status = strict.post("/api/v1/task-status", json=task_status(evidence=[(sheet["id"], "台账")]), headers=EDU_BUREAU)
    assert status.status_code == 201, status.text
    # A task that requires none takes a status without files.
    assert strict.post("/api/v1/task-status", json=task_status(task=6), headers=EDU_BUREAU).status_code == 201


def test_an_integrations_value_requiring_evidence_is_refused_per_row(campaign_client):
    """A system account (an API key) writes in bulk and uploads no files: a value requiring evidence is refused."""
    employment = campaign_client("employment")
    doc = requiring_evidence(campaign_module("employment").service.catalog, {"T076-1"}, set())
    with employment.app.state.database.session() as session:
        seed_catalog(session=session, doc=doc, catalog=employment.app.state.catalog)
    row = report(org_unit="370300", indicator="T076-1", value=1200)
    answer = employment.post("/api/v1/reports/bulk", json={"rows": [row]}, headers=INTEGRATION)
    assert answer.status_code == 422, answer.text
    assert [(e["row"], e["code"]) for e in answer.json()["errors"]] == [(1, "evidence_required")]


# ---- who sees what ------------------------------------------------------------------------------------------


def test_a_district_sees_only_its_own_files_and_reviewers_those_they_review(education):
    photo = upload(education, "照片.jpg", files.jpeg()).json()
    saved = education.post("/api/v1/reports", json=report(evidence=[(photo["id"], "")]), headers=ZHANGDIAN).json()
    url = f"/api/v1/evidence/{photo['id']}/content"
    assert education.get(url, headers=ZHANGDIAN).status_code == 200
    assert education.get(url, headers=ZHANGDIAN_TOO).status_code == 200  # the district's, not the person's
    assert education.get(url, headers=CITY).status_code == 200
    assert education.get(url, headers=EDU_BUREAU).status_code == 200  # the lead bureau of T002's task
    for outsider in (ZICHUAN, HEALTH_BUREAU, VIEWER, INTEGRATION):
        refused = education.get(url, headers=outsider)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "evidence_forbidden" and "无权查看" in refused.json()["detail"]
    listed = education.get("/api/v1/evidence", params={"report_id": [saved["id"]]}, headers=CITY).json()
    assert [(f["id"], f["report_id"]) for f in listed["data"]] == [(photo["id"], saved["id"])]
    assert education.get("/api/v1/evidence", params={"report_id": [saved["id"]]}, headers=ZICHUAN).json()["count"] == 0


def test_a_file_not_yet_saved_is_its_uploaders_alone(education):
    pending = upload(education, "草稿.pdf", files.pdf()).json()
    url = f"/api/v1/evidence/{pending['id']}"
    assert education.get(url, headers=ZHANGDIAN).status_code == 200
    for other in (CITY, ZHANGDIAN_TOO):
        assert education.get(url, headers=other).status_code == 404
    # Nor can anyone else save it with a report.
    taken = education.post("/api/v1/reports", json=report(evidence=[(pending["id"], "")]), headers=ZHANGDIAN_TOO)
    assert taken.status_code == 422 and taken.json()["code"] == "evidence_not_found"
    assert education.delete(url, headers=ZHANGDIAN).status_code == 204
    assert education.get(url, headers=ZHANGDIAN).status_code == 404


def test_a_file_saved_with_one_report_cannot_be_attached_to_another(education):
    photo = upload(education, "照片.jpg", files.jpeg()).json()
    education.post("/api/v1/reports", json=report(evidence=[(photo["id"], "")]), headers=ZHANGDIAN)
    other = education.post(
        "/api/v1/reports", json=report(period="2022-07", evidence=[(photo["id"], "")]), headers=ZHANGDIAN
    )
    assert other.status_code == 422 and other.json()["code"] == "evidence_elsewhere"


# ---- the clean-up ---------------------------------------------------------------------------------------------


def test_files_never_attached_are_removed_after_hours_and_cannot_be_attached_then(education):
    kept = upload(education, "保存的.pdf", files.pdf()).json()
    forgotten = upload(education, "忘了的.jpg", files.jpeg()).json()
    education.post("/api/v1/reports", json=report(evidence=[(kept["id"], "")]), headers=ZHANGDIAN)
    assert len(stored_keys(education)) == 3  # the pdf, the photo and its thumbnail

    assert evidence_service.upkeep_once(education.app) == 0  # not yet: hours, not minutes
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
    assert evidence_service.upkeep_once(education.app, at=later) == 1

    [(kept_key,)] = rows(education, "SELECT object_key FROM evidence_file")
    assert stored_keys(education) == {kept_key}
    late = education.post(
        "/api/v1/reports", json=report(period="2022-07", evidence=[(forgotten["id"], "")]), headers=ZHANGDIAN
    )
    assert late.status_code == 422
    assert late.json()["code"] == "evidence_not_found" and "重新上传" in late.json()["detail"]


def test_the_remains_of_an_upload_that_died_half_way_are_cleaned_up(education):
    """A row written, its object stored, then the process died before the row said `pending`."""
    done = upload(education, "a.pdf", files.pdf()).json()
    with education.app.state.database.session() as session:
        session.connection().execute(
            sa.text("UPDATE evidence_file SET state = 'uploading' WHERE id = :id"), {"id": done["id"]}
        )
        session.commit()
    assert evidence_service.upkeep_once(education.app) == 0  # may still be under way
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)
    assert evidence_service.upkeep_once(education.app, at=soon) == 1
    assert stored_keys(education) == set() and rows(education, "SELECT id FROM evidence_file") == []


def test_metrics_count_objects_and_bytes(education):
    photo = upload(education, "照片.jpg", files.jpeg()).json()
    evidence_service.upkeep_once(education.app)
    metrics = education.get("/metrics").text
    assert 'minsheng_evidence_objects{process="education",state="pending"} 2.0' in metrics
    assert (
        f'minsheng_evidence_bytes{{process="education",state="pending"}} {float(photo["size_bytes"] + 0)}'
        not in metrics
    )
    assert 'minsheng_object_store_up{process="education"} 1.0' in metrics


# ---- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("photo.jpg", files.EXE, 422, "evidence_executable"),
        ("图.svg", files.SVG, 422, "evidence_svg"),
        ("空.pdf", b"", 422, "evidence_empty"),
        ("通知.pdf", files.pdf(b"/OpenAction << /S /JavaScript /JS (x) >>"), 422, "evidence_pdf_active"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(education, name, content, status, code):
    refused = upload(education, name, content)
    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code
    assert "未保存" in refused.json()["detail"]
    assert rows(education, "SELECT id FROM evidence_file") == [] and stored_keys(education) == set()


def test_a_zip_bomb_docx_is_refused(education):
    refused = upload(education, "方案.docx", files.zip_bomb_docx())
    assert refused.status_code == 413 and refused.json()["code"] in (
        "upload_compression_ratio",
        "upload_too_large_unpacked",
    )


def test_a_file_over_the_limit_is_refused_before_it_is_read(make_database, object_store):
    client = start(make_database, object_store, evidence_max_file_bytes=100_000)
    try:
        big = upload(client, "大.pdf", files.pdf() + b"\0" * 200_000)
        assert big.status_code == 413 and big.json()["code"] == "evidence_too_large"
        assert "上限" in big.json()["detail"] and big.json()["max_bytes"] == 100_000
        # Declared too large: refused on its Content-Length alone, before a byte of it is read.
        declared = client.post(
            "/api/v1/evidence",
            content=b"x",
            headers={**dict(ZHANGDIAN), "content-type": "multipart/form-data; boundary=b", "content-length": "900000"},
        )
        assert declared.status_code == 413 and declared.json()["code"] == "evidence_too_large"
    finally:
        client.__exit__(None, None, None)


def test_a_name_with_path_separators_and_control_characters_is_kept_for_display_only(education):
    saved = upload(education, "../../etc/\x1b验收\u202e.pdf", files.pdf()).json()
    assert saved["filename"] == "验收.pdf"
    assert all("etc" not in key for key in stored_keys(education))


def test_a_thousand_tiny_files_in_one_report_are_refused(education):
    many = [{"id": f"{n:032x}", "caption": ""} for n in range(1000)]
    refused = education.post("/api/v1/reports", json={**report(), "evidence": many}, headers=ZHANGDIAN)
    assert refused.status_code == 422
    ids = [upload(education, f"{n}.png", files.png()).json()["id"] for n in range(21)]
    refused = education.post("/api/v1/reports", json=report(evidence=[(i, "") for i in ids]), headers=ZHANGDIAN)
    assert refused.status_code == 422 and refused.json()["code"] == "evidence_too_many"
    assert "最多附 20 个" in refused.json()["detail"]


def test_an_upload_interrupted_half_way_leaves_nothing(education):
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + files.pdf()[:40]

    def halfway():
        yield body
        raise ConnectionResetError("the phone lost its signal")

    with pytest.raises(ConnectionResetError):
        education.post(
            "/api/v1/evidence",
            content=halfway(),
            headers={**dict(ZHANGDIAN), "content-type": "multipart/form-data; boundary=b"},
        )
    assert rows(education, "SELECT id FROM evidence_file") == [] and stored_keys(education) == set()
    assert upload(education, "a.pdf", files.pdf()).status_code == 201  # and the service goes on


def test_a_non_uploader_role_cannot_upload(education):
    for role in (VIEWER, INTEGRATION):
        refused = upload(education, "a.pdf", files.pdf(), headers=role)
        assert refused.status_code == 403 and refused.json()["code"] == "evidence_not_allowed"


# ---- the object store away ----------------------------------------------------------------------------------


def test_with_the_store_away_uploads_answer_503_and_reports_without_files_go_on(make_database, object_store):
    client = start(make_database, object_store, object_store_url=f"http://127.0.0.1:{free_port()}")
    try:
        refused = upload(client, "a.pdf", files.pdf())
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "10"
        assert refused.json()["code"] == "object_store_unavailable" and "稍后重试" in refused.json()["detail"]
        # Nothing half-written: no file anyone could attach; its row only tells the clean-up what to remove.
        assert rows(client, "SELECT state FROM evidence_file") == [("deleting",)]
        assert client.post("/api/v1/reports", json=report(), headers=ZHANGDIAN).status_code == 201
        ready = client.get("/readyz")
        assert ready.status_code == 200
        evidence_service.upkeep_once(client.app)
        assert client.get("/readyz").json()["degraded"] == ["object_store: unreachable (uploads answer 503)"]
    finally:
        client.__exit__(None, None, None)
