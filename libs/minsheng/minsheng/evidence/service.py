"""佐证材料: upload, attach with a report (or task status), read under the permission rules, and clean up what was
never attached.

An upload cannot leave debris.  Its row is written first (`uploading`, committed), then its objects, then the row
says `pending`: so every object the store ever holds has a row naming it.  A report saved with the file attaches it
in the report's own transaction (`claim_files`, `attach`), for good: an attached file is never deleted, whatever
becomes of the revision (replaced, approved).  The clean-up (`sweep`) takes the rows that stayed `pending` past
`evidence_pending_hours`, or `uploading` past the upload grace (the process died, the store failed): it marks them
`deleting` (committed: a report saved after that is refused, not attached to a file about to go), removes their
objects, then their rows; a store that is away leaves them `deleting` for the next run.

Calls block (database, object store, the upload guard's child): call them from sync routes or worker threads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import Connection
from sqlmodel import Session

from minsheng.auth.models import Role
from minsheng.auth.principal import IndicatorScope, Principal, may_see_evidence
from minsheng.catalog.snapshot import CatalogSnapshot
from minsheng.db import Database
from minsheng.errors import DomainError, Forbidden, NotFound, Unprocessable
from minsheng.evidence.content import (
    ALLOWED,
    EXTENSIONS,
    KIND_LABELS,
    MEDIA_TYPES,
    CleanFile,
    EvidenceKind,
    EvidenceLimits,
    inspect,
)
from minsheng.evidence.models import EvidenceFile, EvidenceState
from minsheng.evidence.schemas import EvidenceKindRule, EvidencePublic, EvidenceRef, EvidenceRules
from minsheng.evidence.settings import MB, EvidenceSettings
from minsheng.evidence.storage import ObjectStore, StorageUnavailable
from minsheng.reporting.events import EvidenceDigests
from minsheng.reporting.schemas import RowError
from minsheng.uploads import UploadGuard, UploadLimits

log = logging.getLogger(__name__)

EVIDENCE_UPLOADS = Counter(
    "minsheng_evidence_uploads_total",
    "Evidence uploads by outcome: stored, refused (bad input), store_unavailable",
    ["process", "outcome"],
)
EVIDENCE_SWEPT = Counter("minsheng_evidence_swept_total", "Evidence files removed by the clean-up", ["process"])
EVIDENCE_OBJECTS = Gauge("minsheng_evidence_objects", "Evidence files kept, by state", ["process", "state"])
EVIDENCE_BYTES = Gauge(
    "minsheng_evidence_bytes", "Bytes of evidence files kept (thumbnails included)", ["process", "state"]
)
OBJECT_STORE_UP = Gauge("minsheng_object_store_up", "1 when the object store answered the last probe", ["process"])
UPLOADERS = (Role.city_office, Role.bureau, Role.district)
# The states as stored (the enum's names), bound as parameters of the SQL text here, never typed in it.
STATES = {state.name: state.name for state in EvidenceState}
UPLOAD_TOO_SLOW_MESSAGE = "文件上传耗时过长，本次文件未保存，请稍后重试；填报的数据不受影响"


class FileTooLarge(DomainError):
    status_code = 413
    code = "evidence_too_large"


@dataclass(frozen=True)
class EvidencePolicy:
    """The limits of the settings, for the functions here."""

    max_file_bytes: int
    max_report_bytes: int
    max_files: int
    max_pending_per_account: int
    pending_hours: float
    upload_grace_seconds: float
    content: EvidenceLimits
    # What the files are saved with, in the messages a clerk reads: a campaign's 报告, the gateway's 督办反馈.
    saved_with: str = "报告"

    @classmethod
    def from_settings(
        cls, settings: EvidenceSettings, archive: UploadLimits, *, saved_with: str = "报告"
    ) -> EvidencePolicy:
        return cls(
            max_file_bytes=settings.evidence_max_file_bytes,
            max_report_bytes=settings.evidence_max_report_bytes,
            max_files=settings.evidence_max_files,
            max_pending_per_account=settings.evidence_max_pending_per_account,
            pending_hours=settings.evidence_pending_hours,
            upload_grace_seconds=settings.evidence_upload_grace_seconds,
            content=EvidenceLimits(
                archive=archive,
                image_max_pixels=settings.evidence_image_max_pixels,
                thumbnail_pixels=settings.evidence_thumbnail_pixels,
            ),
            saved_with=saved_with,
        )


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---- upload ---------------------------------------------------------------------------------------------------


def require_uploader(principal: Principal) -> None:
    if principal.role not in UPLOADERS:
        raise Forbidden(f"{principal.label}不能上传佐证材料：只有填报人员可以上传", code="evidence_not_allowed")


def too_large(size: int | None, policy: EvidencePolicy) -> FileTooLarge:
    said = f"（本次 {megabytes(size)} MB）" if size else ""
    return FileTooLarge(
        f"文件超过 {megabytes(policy.max_file_bytes)} MB 的上限{said}，未保存；照片请用手机的「标准」画质，"
        "扫描件请选 150–200 dpi，或拆分后分别上传",
        extra={"max_bytes": policy.max_file_bytes},
    )


def upload(
    *,
    session: Session,
    store: ObjectStore,
    guard: UploadGuard,
    policy: EvidencePolicy,
    principal: Principal,
    filename: str,
    content: bytes,
    process: str,
) -> EvidenceFile:
    """Check the file (in the guard's child process), store it under a random key, and keep it `pending` for the
    uploader until a report is saved with it."""
    require_uploader(principal)
    if len(content) > policy.max_file_bytes:
        raise too_large(len(content), policy)
    store.require_configured()
    pending = (
        session.connection()
        .execute(
            sa.select(sa.func.count())
            .select_from(EvidenceFile)
            .where(EvidenceFile.uploader_account == principal.account_id, EvidenceFile.state == EvidenceState.pending)
        )
        .scalar_one()
    )
    if pending >= policy.max_pending_per_account:
        raise Unprocessable(
            f"已上传但尚未随{policy.saved_with}保存的佐证材料已有 {pending} 个，达到上限；请先提交{policy.saved_with}，"
            "或删除不需要的文件后再上传（未保存的文件会在数小时后自动清除）",
            code="evidence_pending_quota",
        )
    try:
        clean: CleanFile = guard.run(inspect, filename, content, policy.content)
    except DomainError:
        EVIDENCE_UPLOADS.labels(process, "refused").inc()
        raise
    file_id = uuid.uuid4().hex
    key = store.key(f"evidence/{file_id[:2]}/{file_id}")
    row = EvidenceFile(
        id=file_id,
        object_key=key,
        thumbnail_key=f"{key}.thumbnail.jpg" if clean.thumbnail else None,
        filename=clean.filename,
        kind=clean.kind,
        media_type=clean.media_type,
        size_bytes=len(clean.content),
        thumbnail_bytes=len(clean.thumbnail or b""),
        sha256=hashlib.sha256(clean.content).hexdigest(),
        state=EvidenceState.uploading,
        uploaded_by=principal.label,
        uploader_account=principal.account_id,
        uploaded_at=now(),
    )
    session.add(row)
    session.commit()  # the row first: whatever happens next, the clean-up knows these keys
    try:
        store.put(key, clean.content, media_type=clean.media_type, sha256=row.sha256)
        if clean.thumbnail:
            store.put(row.thumbnail_key, clean.thumbnail, media_type="image/jpeg", sha256="")
    except StorageUnavailable:
        EVIDENCE_UPLOADS.labels(process, "store_unavailable").inc()
        _forget(session, store, row)
        raise
    if not _finish_upload(session, row.id):
        # The upload outlasted the grace and the clean-up took its row meanwhile: its objects go too (best effort;
        # a store away now leaves them for the operators' reconciliation, which lists keys without rows).
        EVIDENCE_UPLOADS.labels(process, "store_unavailable").inc()
        log.warning("upload %s outlasted the grace of %ss and was cleaned up", row.id, policy.upload_grace_seconds)
        try:
            store.delete([key for key in (row.object_key, row.thumbnail_key) if key])
        except StorageUnavailable:
            log.error("upload %s: objects %s left without a row", row.id, row.object_key)
        raise StorageUnavailable(UPLOAD_TOO_SLOW_MESSAGE, code="evidence_upload_too_slow")
    session.refresh(row)
    EVIDENCE_UPLOADS.labels(process, "stored").inc()
    return row


def _finish_upload(session: Session, file_id: str) -> bool:
    """`uploading` → `pending`, only if the row is still `uploading` (the clean-up may have taken a slow upload)."""
    finished = session.connection().execute(
        sa.text("UPDATE evidence_file SET state = :pending WHERE id = :id AND state = :uploading"),
        {"id": file_id, **STATES},
    )
    session.commit()
    return finished.rowcount == 1


def _forget(session: Session, store: ObjectStore, row: EvidenceFile) -> None:
    """An upload that failed half-way: what it may have stored goes now, and its row with it; when the store is away
    the row is marked `deleting` (no one can attach it) and the clean-up removes both once the store is back."""
    try:
        store.delete([key for key in (row.object_key, row.thumbnail_key) if key])
    except StorageUnavailable:
        row.state = EvidenceState.deleting
        session.add(row)
    else:
        session.delete(row)
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - the database is away too: the clean-up finds the row `uploading` later
        session.rollback()
        log.info("upload %s left for the clean-up", row.id)


def delete_pending(*, session: Session, store: ObjectStore, principal: Principal, file_id: str) -> None:
    """The uploader takes back a file not yet saved with a report; an attached one stays, always."""
    row = session.get(EvidenceFile, file_id, with_for_update=True)
    if row is None or row.state is EvidenceState.deleting or row.uploader_account != principal.account_id:
        raise not_found(file_id)
    if row.state is EvidenceState.attached:
        raise Forbidden(
            "佐证材料已随报告保存，不能删除（报告的各个版本都保留其佐证材料）；如需更换，请在修订时不再附上它",
            code="evidence_attached",
        )
    row.state = EvidenceState.deleting
    session.add(row)
    session.commit()
    try:
        store.delete([key for key in (row.object_key, row.thumbnail_key) if key])
    except StorageUnavailable:
        return  # marked: the clean-up removes it once the store is back
    session.delete(row)
    session.commit()


# ---- attach with a report or a task status -------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """A report row (or task status) of a request with the files it names, and its series key."""

    number: int
    series: str
    refs: Sequence[EvidenceRef]


_KNOWN_SQL = """
SELECT f.id, f.state, f.uploader_account, f.size_bytes, f.thumbnail_bytes, f.filename,
       array_remove(array_agg(DISTINCT r.indicator_code || '/' || r.org_unit_code || '/' || r.period), NULL),
       array_remove(array_agg(DISTINCT 'task' || t.task_number || '/' || t.org_unit_code || '/' || t.period
                              || CASE WHEN t.partner_department = '' THEN '' ELSE '/' || t.partner_department END),
                    NULL)
FROM evidence_file f
LEFT JOIN evidence_attachment a ON a.evidence_id = f.id
LEFT JOIN report r ON r.id = a.report_id
LEFT JOIN task_status_report t ON t.id = a.task_status_id
WHERE f.id = ANY(:ids)
GROUP BY f.id
"""


@dataclass(frozen=True)
class KnownFile:
    """A file named in a request, as it stands, and the series (or other subjects) it is attached to already."""

    id: str
    state: str
    uploader_account: int
    size_bytes: int
    filename: str
    subjects: tuple[str, ...] = ()


def check_refs(
    session: Session, policy: EvidencePolicy, principal: Principal, items: Sequence[Submitted]
) -> list[RowError]:
    """What is wrong with the files each report row (or task status) names; a file saved with an earlier revision of
    the same series may be named again (the new revision keeps it)."""
    ids = sorted({ref.id for item in items for ref in item.refs})
    if not ids:
        return []
    known = {
        row[0]: KnownFile(row[0], row[1], row[2], row[3], filename=row[5], subjects=(*row[6], *row[7]))
        for row in session.connection().execute(sa.text(_KNOWN_SQL), {"ids": ids})
    }
    return check_files(policy, principal, items, known)


def check_files(
    policy: EvidencePolicy, principal: Principal, items: Sequence[Submitted], known: dict[str, KnownFile]
) -> list[RowError]:
    """What is wrong with the files each item names, whatever it is saved with: too many, too large together, named
    twice, unknown or expired, someone else's upload, or attached to another subject than the item's `series`."""
    errors: list[RowError] = []
    for item in items:
        if not item.refs:
            continue

        def fail(code: str, message: str, number: int = item.number) -> None:
            errors.append(RowError(row=number, field="evidence", code=code, message=message))

        if len(item.refs) > policy.max_files:
            fail(
                "evidence_too_many",
                f"每份{policy.saved_with}最多附 {policy.max_files} 个佐证材料，本次附了 {len(item.refs)} 个；"
                "请合并（如把多张照片放进一个 PDF）后再提交",
            )
            continue
        seen: set[str] = set()
        total = 0
        for ref in item.refs:
            file = known.get(ref.id)
            if ref.id in seen:
                fail("evidence_duplicate", f"佐证材料「{file.filename if file else ref.id}」附了两次")
                continue
            seen.add(ref.id)
            if file is None or file.state == EvidenceState.deleting.name:
                fail("evidence_not_found", _gone_message(ref.id, policy))
                continue
            if file.state == EvidenceState.uploading.name:
                fail("evidence_not_ready", f"佐证材料「{file.filename}」尚未上传完成，请稍候或重新上传")
            elif file.state == EvidenceState.pending.name and file.uploader_account != principal.account_id:
                fail("evidence_not_found", _gone_message(ref.id, policy))
            elif file.state == EvidenceState.attached.name and item.series not in file.subjects:
                fail(
                    "evidence_elsewhere",
                    f"佐证材料「{file.filename}」已随其他{policy.saved_with}保存，不能附到本{policy.saved_with}；"
                    "如需使用同一文件，请重新上传",
                )
            total += file.size_bytes
        if total > policy.max_report_bytes:
            fail(
                "evidence_report_too_large",
                f"本{policy.saved_with}的佐证材料合计 {megabytes(total)} MB，"
                f"超过 {megabytes(policy.max_report_bytes)} MB 的上限；请压缩或精简后再提交",
            )
    return errors


def _gone_message(file_id: str, policy: EvidencePolicy) -> str:
    return (
        f"佐证材料（编号 {file_id[:8]}…）不存在或已过期：上传后 {policy.pending_hours:g} 小时内"
        f"未随{policy.saved_with}保存的文件"
        "会被清除，请重新上传"
    )


@dataclass(frozen=True)
class ClaimedFile:
    id: str
    state: str
    sha256: str
    filename: str


def claim_files(connection: Connection, ids: Iterable[str]) -> dict[str, ClaimedFile]:
    """The files named, locked until the transaction ends (the clean-up skips them meanwhile), as they stand:
    a writer attaches only those still `pending` or already attached."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = connection.execute(
        sa.text("SELECT id, state, sha256, filename FROM evidence_file WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
        {"ids": wanted},
    )
    return {row[0]: ClaimedFile(*row) for row in rows}


def usable(refs: Sequence[EvidenceRef], claimed: dict[str, ClaimedFile]) -> bool:
    return all(
        ref.id in claimed and claimed[ref.id].state in (EvidenceState.pending.name, EvidenceState.attached.name)
        for ref in refs
    )


def gone(policy: EvidencePolicy) -> Unprocessable:
    """A file named in a report that the clean-up took meanwhile (found at write time)."""
    return Unprocessable(
        f"有佐证材料已过期被清除（上传后 {policy.pending_hours:g} 小时内未随{policy.saved_with}保存），本次未保存；"
        "请重新上传后再提交",
        code="evidence_not_found",
    )


def attachment_rows(
    refs: Sequence[EvidenceRef], *, report_id: int | None = None, task_status_id: int | None = None
) -> list[dict]:
    return [
        {
            "evidence_id": ref.id,
            "report_id": report_id,
            "task_status_id": task_status_id,
            "caption": ref.caption,
            "position": position,
        }
        for position, ref in enumerate(refs)
    ]


def mark_attached(connection: Connection, ids: Iterable[str], at: dt.datetime) -> None:
    wanted = sorted(set(ids))
    if wanted:
        connection.execute(
            sa.text(
                "UPDATE evidence_file SET state = :attached, attached_at = :at "
                "WHERE id = ANY(:ids) AND state = :pending"
            ),
            {"ids": wanted, "at": at, **STATES},
        )


def digests(refs: Sequence[EvidenceRef], claimed: dict[str, ClaimedFile]) -> EvidenceDigests | None:
    """What the event says of a revision's files: how many, and their SHA-256 (none: no field at all)."""
    if not refs:
        return None
    return EvidenceDigests(count=len(refs), sha256=[claimed[ref.id].sha256 for ref in refs])


def recorded(refs: Sequence[EvidenceRef], claimed: dict[str, ClaimedFile]) -> list[dict]:
    """What the history record (and so the audit export) keeps of a revision's files."""
    return [
        {"name": claimed[ref.id].filename, "sha256": claimed[ref.id].sha256, "caption": ref.caption} for ref in refs
    ]


# ---- reads ---------------------------------------------------------------------------------------------------


_FILES_SQL = """
SELECT a.report_id, a.task_status_id, a.caption, f.id, f.filename, f.kind, f.media_type, f.size_bytes, f.sha256,
       f.thumbnail_key IS NOT NULL AS has_thumbnail, f.state, f.uploaded_by, f.uploaded_at
FROM evidence_attachment a JOIN evidence_file f ON f.id = a.evidence_id
WHERE a.{column} = ANY(:ids)
ORDER BY a.{column}, a.position, a.id
"""


def files_of(session: Session, *, report_ids: Iterable[int] = (), task_status_ids: Iterable[int] = ()) -> dict:
    """{("report", id) | ("task_status", id): [EvidencePublic, …]} of the subjects given (one query each kind)."""
    found: dict[tuple[str, int], list[EvidencePublic]] = {}
    for kind, column, ids in (("report", "report_id", report_ids), ("task_status", "task_status_id", task_status_ids)):
        wanted = sorted(set(ids))
        if not wanted:
            continue
        rows = session.connection().execute(sa.text(_FILES_SQL.format(column=column)), {"ids": wanted}).mappings()
        for row in rows:
            subject = row["report_id"] if kind == "report" else row["task_status_id"]
            found.setdefault((kind, subject), []).append(
                EvidencePublic(
                    id=row["id"],
                    filename=row["filename"],
                    caption=row["caption"],
                    kind=row["kind"],
                    media_type=row["media_type"],
                    size_bytes=row["size_bytes"],
                    sha256=row["sha256"],
                    has_thumbnail=row["has_thumbnail"],
                    state=row["state"],
                    uploaded_by=row["uploaded_by"],
                    uploaded_at=row["uploaded_at"],
                )
            )
    return found


def public(row: EvidenceFile, caption: str = "") -> EvidencePublic:
    return EvidencePublic(
        id=row.id,
        filename=row.filename,
        caption=caption,
        kind=row.kind,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        has_thumbnail=row.thumbnail_key is not None,
        state=row.state,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
    )


_SUBJECTS_SQL = """
SELECT r.indicator_code, r.org_unit_code, NULL::int AS task_number, '' AS partner_department
FROM evidence_attachment a JOIN report r ON r.id = a.report_id WHERE a.evidence_id = :id
UNION
SELECT NULL, t.org_unit_code, t.task_number, t.partner_department
FROM evidence_attachment a JOIN task_status_report t ON t.id = a.task_status_id WHERE a.evidence_id = :id
"""


def subject_visible(
    principal: Principal,
    catalog: CatalogSnapshot,
    indicator: str | None,
    org_unit: str,
    task_number: int | None,
    partner_department: str = "",
) -> bool:
    """May `principal` see the files of this report (indicator × org unit) or task status (task × org unit; a
    partner's part: its department's too, beside the task's lead)?"""
    if indicator is not None:
        fact = catalog.indicators.get(indicator)
        if fact is None:  # retired from the catalog: the city office keeps the record
            return principal.role is Role.city_office
        scope = IndicatorScope(
            code=fact.code,
            task_number=fact.task_number,
            lead_departments=catalog.lead_departments.get(fact.task_number, ()) if fact.task_number else (),
            city_only=fact.city_only,
        )
    else:
        scope = IndicatorScope(
            code=f"任务{task_number}",
            task_number=task_number,
            lead_departments=catalog.lead_departments.get(task_number, ())
            + ((partner_department,) if partner_department else ()),
            city_only=False,
        )
    return may_see_evidence(principal, scope, org_unit)


def readable_file(*, session: Session, catalog: CatalogSnapshot, principal: Principal, file_id: str) -> EvidenceFile:
    """The file, if `principal` may see it: its uploader, or (once attached) whoever may see a report or task status
    it is attached to (`may_see_evidence`: a district its own, reviewers what they review)."""
    row = session.get(EvidenceFile, file_id)
    if row is None or row.state in (EvidenceState.uploading, EvidenceState.deleting):
        raise not_found(file_id)
    if row.uploader_account == principal.account_id and principal.account_id:
        return row
    if row.state is EvidenceState.pending:
        raise not_found(file_id)  # someone's upload, not saved with anything yet: theirs alone
    subjects = session.connection().execute(sa.text(_SUBJECTS_SQL), {"id": file_id}).all()
    if any(subject_visible(principal, catalog, *subject) for subject in subjects):
        return row
    raise Forbidden(
        f"{principal.label}无权查看该佐证材料：区县只能查看本单位报告的材料，牵头部门查看其牵头任务的材料，"
        "市民生办可查看全部",
        code="evidence_forbidden",
    )


_ATTACHED_SUBJECTS_SQL = """
SELECT a.report_id, NULL::int AS task_status_id, r.indicator_code, r.org_unit_code, NULL::int AS task_number,
       '' AS partner_department
FROM evidence_attachment a JOIN report r ON r.id = a.report_id WHERE a.report_id = ANY(:reports)
UNION
SELECT NULL, a.task_status_id, NULL, t.org_unit_code, t.task_number, t.partner_department
FROM evidence_attachment a JOIN task_status_report t ON t.id = a.task_status_id WHERE a.task_status_id = ANY(:statuses)
"""


def visible_attachments(
    *,
    session: Session,
    catalog: CatalogSnapshot,
    principal: Principal,
    report_ids: Sequence[int],
    task_status_ids: Sequence[int],
) -> list[dict]:
    """The files of these reports and task statuses that `principal` may see, each with its subject's id."""
    subjects = session.connection().execute(
        sa.text(_ATTACHED_SUBJECTS_SQL), {"reports": list(report_ids), "statuses": list(task_status_ids)}
    )
    reports, statuses = set(), set()
    for report_id, task_status_id, *subject in subjects:
        if not subject_visible(principal, catalog, *subject):
            continue
        if report_id is not None:
            reports.add(report_id)
        else:
            statuses.add(task_status_id)
    files = files_of(session, report_ids=reports, task_status_ids=statuses)
    found = []
    for (kind, subject), items in sorted(files.items()):
        for item in items:
            found.append(
                {
                    **item.model_dump(),
                    "report_id": subject if kind == "report" else None,
                    "task_status_id": subject if kind == "task_status" else None,
                }
            )
    return found


def no_thumbnail(row: EvidenceFile) -> NotFound:
    return NotFound(f"「{row.filename}」不是图片，没有缩略图", code="evidence_no_thumbnail")


def not_found(file_id: str) -> NotFound:
    return NotFound(f"佐证材料（编号 {file_id[:8]}…）不存在或已被清除", code="evidence_not_found")


# ---- clean-up, health and metrics ---------------------------------------------------------------------------

_CLAIM_DEBRIS_SQL = """
UPDATE evidence_file SET state = :deleting
WHERE id IN (
    SELECT id FROM evidence_file
    WHERE (state = :pending AND uploaded_at < :pending_before)
       OR (state = :uploading AND uploaded_at < :uploading_before)
       OR state = :deleting
    ORDER BY uploaded_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
RETURNING id, object_key, thumbnail_key
"""


def sweep(
    database: Database, store: ObjectStore, policy: EvidencePolicy, *, at: dt.datetime | None = None, limit: int = 500
) -> int:
    """Remove the files never attached (pending past `pending_hours`) and the remains of uploads that did not finish;
    returns how many went.  Safe to run on several replicas at once (rows locked by another are skipped)."""
    at = at or now()
    removed = 0
    while True:
        with database.session() as session:
            claimed = (
                session.connection()
                .execute(
                    sa.text(_CLAIM_DEBRIS_SQL),
                    {
                        "pending_before": at - dt.timedelta(hours=policy.pending_hours),
                        "uploading_before": at - dt.timedelta(seconds=policy.upload_grace_seconds),
                        "limit": limit,
                        **STATES,
                    },
                )
                .all()
            )
            session.commit()
        if not claimed:
            return removed
        try:
            store.delete([key for _, object_key, thumbnail in claimed for key in (object_key, thumbnail) if key])
        except StorageUnavailable:
            log.info("evidence clean-up: the object store is away; %d files wait as 'deleting'", len(claimed))
            return removed
        with database.session() as session:
            session.connection().execute(
                sa.text("DELETE FROM evidence_file WHERE id = ANY(:ids) AND state = :deleting"),
                {"ids": [row[0] for row in claimed], **STATES},
            )
            session.commit()
        removed += len(claimed)
        if len(claimed) < limit:
            return removed


def export_metrics(databases: Iterable[Database], process: str) -> None:
    """Objects and bytes kept, by state (from the database, which names every object: no listing of the store), of
    every plan's schema (`databases`, one per plan): the campaign's one bucket holds them all."""
    seen = {state.name: (0, 0) for state in EvidenceState}
    for database in databases:
        with database.session() as session:
            rows = (
                session.connection()
                .execute(
                    sa.text(
                        "SELECT state, count(*) + count(thumbnail_key), sum(size_bytes + thumbnail_bytes) "
                        "FROM evidence_file GROUP BY state"
                    )
                )
                .all()
            )
        for state, objects, size in rows:
            kept_objects, kept_size = seen.get(state, (0, 0))
            seen[state] = (kept_objects + objects, kept_size + (size or 0))
    for state, (objects, size) in seen.items():
        EVIDENCE_OBJECTS.labels(process, state).set(objects)
        EVIDENCE_BYTES.labels(process, state).set(size)


async def upkeep(app) -> None:  # noqa: ANN001 - a FastAPI app
    """A background job of each campaign service: every `evidence_sweep_seconds`, probe the store (its health in
    /readyz as `degraded`, and a gauge), clean up (`sweep`) and export the objects and bytes kept."""
    import asyncio

    settings: EvidenceSettings = app.state.settings
    process = app.state.process
    while True:
        try:
            await asyncio.to_thread(upkeep_once, app)
        except Exception:  # noqa: BLE001 - the database away, say: tried again next time
            log.exception(
                "evidence upkeep of %s failed; trying again in %.0f s", process, settings.evidence_sweep_seconds
            )
        await asyncio.sleep(settings.evidence_sweep_seconds)


def upkeep_once(app, *, at: dt.datetime | None = None) -> int:  # noqa: ANN001 - a FastAPI app
    store: ObjectStore = app.state.evidence_store
    process = app.state.process
    up = store.ping()
    app.state.evidence_store_up = up
    OBJECT_STORE_UP.labels(process).set(1 if up else 0)
    # Each plan of a campaign keeps its files' rows in its own schema (decision 0017): each is swept.  The
    # gateway's files (督办单) are in its public schema only.
    plans = getattr(app.state, "plans", None) if getattr(app.state, "evidence_per_plan", True) else None
    databases = [slot.database for slot in plans.slots()] if plans is not None else [app.state.database]
    removed = sum(sweep(database, store, app.state.evidence_policy, at=at) for database in databases) if up else 0
    if removed:
        EVIDENCE_SWEPT.labels(process).inc(removed)
        log.info("evidence clean-up of %s removed %d files never saved with a report", process, removed)
    export_metrics(databases, process)
    return removed


def store_degraded(app) -> list[str]:  # noqa: ANN001 - a FastAPI app
    """/readyz: the store's state as last probed, said but not made a reason to be unready (reports without files
    go on while it is away)."""
    if not app.state.evidence_store.configured:
        return ["object_store: not configured"]
    if not getattr(app.state, "evidence_store_up", True):
        return ["object_store: unreachable (uploads answer 503)"]
    return []


def store_opener(*, saved_with: str = "报告", per_plan: bool = True) -> Callable[[FastAPI], None]:
    """A start-up step: the process's bucket of the object store and the limits of its files.  The store is not
    contacted: one that is away at start-up leaves the process ready (uploads answer 503 until it is back)."""

    def open_store(app: FastAPI) -> None:
        settings = app.state.settings
        app.state.evidence_store = ObjectStore.from_settings(settings)
        app.state.evidence_policy = EvidencePolicy.from_settings(
            settings, app.state.upload_guard.limits, saved_with=saved_with
        )
        app.state.evidence_per_plan = per_plan
        app.state.degraded_checks.append(store_degraded)

    return open_store


def rules(policy: EvidencePolicy) -> EvidenceRules:
    """What the upload area tells a clerk before they choose files: the kinds accepted and the process's limits."""
    kinds = [
        EvidenceKindRule(
            kind=kind, label=KIND_LABELS[kind], media_type=MEDIA_TYPES[kind], extensions=list(EXTENSIONS[kind])
        )
        for kind in EvidenceKind
    ]
    summary = (
        f"可上传 {ALLOWED}，每个不超过 {megabytes(policy.max_file_bytes)} MB，"
        f"每份{policy.saved_with}至多 {policy.max_files} 个、合计不超过 {megabytes(policy.max_report_bytes)} MB；"
        "照片会去除拍摄位置等信息"
    )
    return EvidenceRules(
        kinds=kinds,
        max_file_bytes=policy.max_file_bytes,
        max_report_bytes=policy.max_report_bytes,
        max_files=policy.max_files,
        pending_hours=policy.pending_hours,
        summary=summary,
    )


# ---- dependencies --------------------------------------------------------------------------------------------


async def _store(request: Request) -> ObjectStore:
    return request.app.state.evidence_store


async def _policy(request: Request) -> EvidencePolicy:
    return request.app.state.evidence_policy


ObjectStoreDep = Annotated[ObjectStore, Depends(_store)]
EvidencePolicyDep = Annotated[EvidencePolicy, Depends(_policy)]
