"""佐证材料 endpoints of a campaign service (the gateway forwards /api/v1/campaigns/<campaign>/evidence… here).
Thin: parse, call one service function, shape the answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from sqlmodel import Session

from minsheng.auth.deps import PrincipalDep
from minsheng.auth.principal import Principal
from minsheng.catalog.snapshot import CatalogDep
from minsheng.db import SessionDep
from minsheng.evidence import service
from minsheng.evidence.content import IMAGES, EvidenceKind
from minsheng.evidence.models import EvidenceFile
from minsheng.evidence.schemas import (
    EVIDENCE_ID,
    AttachedEvidence,
    EvidenceIndex,
    EvidencePublic,
    EvidenceRules,
)
from minsheng.evidence.service import EvidencePolicyDep, ObjectStoreDep
from minsheng.evidence.storage import ObjectStore, content_disposition
from minsheng.params import MAX_ROW_ID
from minsheng.uploads import UploadGuard, UploadGuardDep

# What a multipart body adds to the file it carries (boundaries, headers of the part): generous.
MULTIPART_ALLOWANCE = 64 * 1024
# A file shown in the page (an image, a download): nothing in it may run, and only the app may frame it.  A PDF
# only the latter: browsers refuse to show one in a sandbox, and one with scripts was refused on upload.
FILE_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
)
PDF_SECURITY_POLICY = "frame-ancestors 'self'"
ERRORS = {
    401: {"description": "未登录或令牌无效"},
    403: {"description": "无权上传或查看"},
    404: {"description": "佐证材料不存在或已清除"},
    413: {"description": "文件过大"},
    422: {"description": "文件类型不被接受或内容有问题（说明原因）"},
    503: {"description": "文件存储暂时不可用（Retry-After）"},
}
FILE_RESPONSE = {
    200: {
        "content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}, "application/octet-stream": {}},
        "description": "文件内容（流式）",
    }
}


class BoundedUpload(APIRoute):
    """Refuses a body declared larger than one evidence file (and its multipart framing) before any of it is
    read: FastAPI reads a form whole before a route or its dependencies run."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            policy: service.EvidencePolicy = request.app.state.evidence_policy
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > policy.max_file_bytes + MULTIPART_ALLOWANCE:
                raise service.too_large(int(declared), policy)
            return await handler(request)

        return bounded


upload_router = APIRouter(prefix="/api/v1", tags=["佐证材料 evidence"], route_class=BoundedUpload)
router = APIRouter(prefix="/api/v1", tags=["佐证材料 evidence"])
EvidenceId = Annotated[str, Path(max_length=32, pattern=EVIDENCE_ID, description="佐证材料编号（上传时得到）")]


@upload_router.post(
    "/evidence",
    response_model=EvidencePublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="上传一个佐证材料（PDF、JPG、PNG、DOCX、XLSX）：得到编号，保存报告时附上；未附上的数小时后清除",
)
def upload_evidence(
    request: Request,
    session: SessionDep,
    store: ObjectStoreDep,
    policy: EvidencePolicyDep,
    guard: UploadGuardDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="一个文件，至多 20 MB（按文件内容判断类型，与文件名无关）")],
):
    # Sync: the checks run in the guard's child process, the store is called over HTTP; a worker thread waits.
    return receive(request, session, store, policy, guard, principal, file)


def receive(
    request: Request,
    session: Session,
    store: ObjectStore,
    policy: service.EvidencePolicy,
    guard: UploadGuard,
    principal: Principal,
    file: UploadFile,
) -> EvidencePublic:
    """An upload route's body, whatever the files are for: bounded, checked, stored, kept `pending`."""
    if file.size is not None and file.size > policy.max_file_bytes:
        raise service.too_large(file.size, policy)
    row = service.upload(
        session=session,
        store=store,
        guard=guard,
        policy=policy,
        principal=principal,
        filename=file.filename or "",
        content=file.file.read(policy.max_file_bytes + 1),
        process=request.app.state.process,
    )
    return service.public(row)


@router.get(
    "/evidence",
    response_model=EvidenceIndex,
    responses=ERRORS,
    summary="报告（或任务进展）的佐证材料：一次列出多份报告的（审核页用），只列本人有权查看的",
)
def list_evidence(
    session: SessionDep,
    catalog: CatalogDep,
    principal: PrincipalDep,
    report_id: Annotated[list[int], Query(max_length=200, description="报告编号，可重复")] = [],  # noqa: B006
    task_status_id: Annotated[list[int], Query(max_length=200, description="任务进展编号，可重复")] = [],  # noqa: B006
):
    data = service.visible_attachments(
        session=session,
        catalog=catalog.snapshot(session),
        principal=principal,
        report_ids=[i for i in report_id if 0 < i <= MAX_ROW_ID],  # beyond the id column's range: no such report
        task_status_ids=[i for i in task_status_id if 0 < i <= MAX_ROW_ID],
    )
    return EvidenceIndex(data=[AttachedEvidence(**item) for item in data], count=len(data))


@router.get("/evidence/rules", response_model=EvidenceRules, summary="可上传的文件类型和大小上限（上传区的提示）")
def read_rules(policy: EvidencePolicyDep):
    return service.rules(policy)


@router.get("/evidence/{evidence_id}", response_model=EvidencePublic, responses=ERRORS, summary="一个佐证材料的信息")
def read_evidence(session: SessionDep, catalog: CatalogDep, principal: PrincipalDep, evidence_id: EvidenceId):
    return service.public(
        service.readable_file(
            session=session, catalog=catalog.snapshot(session), principal=principal, file_id=evidence_id
        )
    )


def stream_file(
    store: ObjectStore, row: EvidenceFile, key: str, media_type: str, *, filename: str, inline: bool
) -> StreamingResponse:
    """An object of the store as the answer, with the headers that keep a file from running in the app's origin."""
    size, chunks = store.stream(key)
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": content_disposition(filename, inline=inline),
            # The id names one content for good: a browser may keep it (for this person only).
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{row.sha256}"',
            "Content-Security-Policy": PDF_SECURITY_POLICY if media_type == "application/pdf" else FILE_SECURITY_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={**ERRORS, **FILE_RESPONSE},
    summary="佐证材料的内容（PDF 与图片在页面中预览，Word/Excel 下载）",
)
def read_evidence_content(
    session: SessionDep,
    catalog: CatalogDep,
    store: ObjectStoreDep,
    principal: PrincipalDep,
    evidence_id: EvidenceId,
    download: Annotated[bool, Query(description="true：作为附件下载")] = False,
):
    row = service.readable_file(
        session=session, catalog=catalog.snapshot(session), principal=principal, file_id=evidence_id
    )
    return content_response(store, row, download=download)


def content_response(store: ObjectStore, row: EvidenceFile, *, download: bool) -> StreamingResponse:
    """A file read by someone allowed: PDFs and images shown in the page unless asked as a download."""
    inline = not download and (row.kind is EvidenceKind.pdf or row.kind in IMAGES)
    return stream_file(store, row, row.object_key, row.media_type, filename=row.filename, inline=inline)


@router.get(
    "/evidence/{evidence_id}/thumbnail",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}, "description": "缩略图（JPEG）"}},
    summary="图片佐证材料的缩略图",
)
def read_evidence_thumbnail(
    session: SessionDep, catalog: CatalogDep, store: ObjectStoreDep, principal: PrincipalDep, evidence_id: EvidenceId
):
    row = service.readable_file(
        session=session, catalog=catalog.snapshot(session), principal=principal, file_id=evidence_id
    )
    return thumbnail_response(store, row)


def thumbnail_response(store: ObjectStore, row: EvidenceFile) -> StreamingResponse:
    if row.thumbnail_key is None:
        raise service.no_thumbnail(row)
    name = row.filename.rsplit(".", 1)[0] + "_缩略图.jpg"
    return stream_file(store, row, row.thumbnail_key, "image/jpeg", filename=name, inline=True)


@router.delete(
    "/evidence/{evidence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="删除本人上传、尚未随报告保存的佐证材料（已保存的不能删除）",
)
def delete_evidence(session: SessionDep, store: ObjectStoreDep, principal: PrincipalDep, evidence_id: EvidenceId):
    service.delete_pending(session=session, store=store, principal=principal, file_id=evidence_id)
