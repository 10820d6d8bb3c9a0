"""佐证材料 of 督办单 answers, through the gateway with its own bucket in the session's SeaweedFS: uploaded first to the
pending area, attached by the answer in its transaction (the step, its files and its event together), read by who
may see the order and by no one else, refused when they are not what they claim, and swept when never attached."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from PIL import Image
from sqlmodel import select

from minsheng.evidence import service as evidence_service
from minsheng.evidence.models import EvidenceFile
from minsheng.supervision_events import SupervisionOrderEvent
from minsheng_gateway.supervision.models import SupervisionEvidence
from tests.gateway.test_supervision import ANSWER, order_body, person, running_gateway, supervision_events
from tests.support import evidence_files as files
from tests.support.objectstore import bucket_name


@pytest.fixture
def gateway(campaign_client, make_database, object_store):
    store = {
        "object_store_url": object_store.endpoint,
        "object_store_access_key": object_store.credentials.access_key,
        "object_store_secret_key": object_store.credentials.secret_key,
        "evidence_bucket": bucket_name("gateway"),
        "object_store_timeout_seconds": 2.0,
    }
    with running_gateway(campaign_client, make_database, "127.0.0.1:1", **store) as client:
        yield client


def upload(client, csrf, name: str, content: bytes):  # noqa: ANN001, ANN201
    return client.post("/api/v1/supervision/evidence", files={"file": (name, content)}, headers=csrf)


def acknowledged_order(gateway) -> tuple[str, tuple, tuple]:  # noqa: ANN001
    office = person(gateway, "demo-city-office")
    bureau = person(gateway, "demo-civil-affairs-bureau")
    number = office[0].post("/api/v1/supervision/orders", json=order_body(), headers=office[1]).json()["id"]
    assert bureau[0].post(f"/api/v1/supervision/orders/{number}/acknowledge", headers=bureau[1]).status_code == 200
    return number, office, bureau


def files_in_gateway(gateway) -> list[EvidenceFile]:  # noqa: ANN001
    with gateway.app.state.database.session() as session:
        return list(session.exec(select(EvidenceFile)))


def test_a_department_attaches_a_photo_to_its_answer_and_whoever_sees_the_order_reads_it(gateway):
    number, (office, _), (bureau, bureau_csrf) = acknowledged_order(gateway)
    path = f"/api/v1/supervision/orders/{number}"

    rules = bureau.get("/api/v1/supervision/evidence/rules").json()
    assert "每份督办反馈至多" in rules["summary"] and rules["max_file_bytes"] == 20 * 1024 * 1024
    photo = upload(bureau, bureau_csrf, "站点照片.jpg", files.jpeg(gps=True))
    assert photo.status_code == 201, photo.text
    photo = photo.json()
    assert (photo["state"], photo["kind"], photo["has_thumbnail"]) == ("pending", "jpeg", True)
    sheet = upload(bureau, bureau_csrf, "站点清单.xlsx", files.xlsx()).json()
    # not attached yet: the uploader's alone
    assert bureau.get(f"/api/v1/supervision/evidence/{photo['id']}/content").status_code == 200
    assert office.get(f"/api/v1/supervision/evidence/{photo['id']}/content").status_code == 404

    body = ANSWER | {"evidence": [{"id": photo["id"], "caption": "新站点外景"}, {"id": sheet["id"]}]}
    answered = bureau.post(f"{path}/answer", json=body, headers=bureau_csrf)
    assert answered.status_code == 200, answered.text
    step = answered.json()["history"][-1]
    assert step["action"] == "answer"
    assert [(f["filename"], f["caption"], f["state"]) for f in step["evidence"]] == [
        ("站点照片.jpg", "新站点外景", "attached"),
        ("站点清单.xlsx", "", "attached"),
    ]
    assert office.get(path).json()["history"][-1]["evidence"] == step["evidence"]

    # the event says how many files and their digests, nothing else of them
    event = SupervisionOrderEvent.model_validate(supervision_events(gateway)[-1].data)
    assert event.state == "answered"
    assert event.evidence.count == 2 and event.evidence.sha256 == [photo["sha256"], sheet["sha256"]]
    assert supervision_events(gateway)[0].data.get("evidence") is None  # the steps without files: unchanged

    # the city office (sees every order) and the partner district read the photo: without its GPS position
    for username in ("demo-city-office", "demo-zhangdian", "demo-leader"):
        reader, _ = person(gateway, username)
        content = reader.get(f"/api/v1/supervision/evidence/{photo['id']}/content")
        assert content.status_code == 200, (username, content.text)
        assert hashlib.sha256(content.content).hexdigest() == photo["sha256"]
        assert not Image.open(io.BytesIO(content.content)).getexif().get(files.GPS_TAG)
    thumbnail = office.get(f"/api/v1/supervision/evidence/{photo['id']}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    download = office.get(f"/api/v1/supervision/evidence/{sheet['id']}/content", params={"download": True})
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")

    # a department that neither leads nor partners the order does not learn the file exists
    education, _ = person(gateway, "demo-education-bureau")
    refused = education.get(f"/api/v1/supervision/evidence/{photo['id']}/content")
    assert refused.status_code == 404 and refused.json()["code"] == "evidence_not_found"
    assert "不存在" in refused.json()["detail"]
    # attached for good: its uploader cannot take it back
    assert bureau.delete(f"/api/v1/supervision/evidence/{photo['id']}", headers=bureau_csrf).status_code == 403


def test_a_file_that_is_not_what_it_claims_is_refused_in_chinese_and_nothing_is_attached(gateway):
    number, _, (bureau, bureau_csrf) = acknowledged_order(gateway)
    path = f"/api/v1/supervision/orders/{number}"
    events_before = len(supervision_events(gateway))

    refused = upload(bureau, bureau_csrf, "照片.jpg", files.EXE)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "evidence_executable" and "程序" in refused.json()["detail"]
    assert files_in_gateway(gateway) == []

    # an answer naming a file that does not exist is refused whole: no step, no event, the state unchanged
    unknown = bureau.post(f"{path}/answer", json=ANSWER | {"evidence": [{"id": "0" * 32}]}, headers=bureau_csrf)
    assert unknown.status_code == 422 and unknown.json()["code"] == "evidence_not_found"
    assert "督办反馈" in unknown.json()["detail"]
    order = bureau.get(path).json()
    assert order["state"] == "acknowledged" and [s["action"] for s in order["history"]] == ["open", "acknowledge"]
    assert len(supervision_events(gateway)) == events_before

    # someone else's upload cannot be named: the partner district's file is the district's own until saved
    district, district_csrf = person(gateway, "demo-zhangdian")
    theirs = upload(district, district_csrf, "说明.pdf", files.pdf()).json()
    other = bureau.post(f"{path}/answer", json=ANSWER | {"evidence": [{"id": theirs["id"]}]}, headers=bureau_csrf)
    assert other.status_code == 422 and other.json()["code"] == "evidence_not_found"
    with gateway.app.state.database.session() as session:
        assert list(session.exec(select(SupervisionEvidence))) == []
    assert bureau.get(path).json()["state"] == "acknowledged"


def test_files_never_attached_are_swept_after_hours_and_an_answer_naming_one_is_refused(gateway):
    number, _, (bureau, bureau_csrf) = acknowledged_order(gateway)
    kept = upload(bureau, bureau_csrf, "清单.pdf", files.pdf()).json()
    forgotten = upload(bureau, bureau_csrf, "草稿.png", files.png()).json()
    answered = bureau.post(
        f"/api/v1/supervision/orders/{number}/answer",
        json=ANSWER | {"evidence": [{"id": kept["id"]}]},
        headers=bureau_csrf,
    )
    assert answered.status_code == 200, answered.text

    app = gateway.app
    assert evidence_service.upkeep_once(app) == 0  # hours, not minutes
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=app.state.evidence_policy.pending_hours + 1)
    assert evidence_service.upkeep_once(app, at=later) == 1
    assert {f.id for f in files_in_gateway(gateway)} == {kept["id"]}  # the attached one stays, for good
    assert bureau.get(f"/api/v1/supervision/evidence/{forgotten['id']}/content").status_code == 404
    assert bureau.get(f"/api/v1/supervision/evidence/{kept['id']}/content").status_code == 200
    # its objects went with its row
    store = app.state.evidence_store
    assert not [key for key, _ in store.list_keys() if forgotten["id"] in key]
