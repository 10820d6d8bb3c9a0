"""Request and answer shapes of evidence files: a reference in a report's body (`EvidenceRef`), a file as the
API shows it (`EvidencePublic`)."""

from __future__ import annotations

import datetime as dt
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator

from minsheng.evidence.content import EvidenceKind
from minsheng.evidence.models import EvidenceState

EVIDENCE_ID = r"^[0-9a-f]{32}$"
# A hard bound on a body's list, whatever the settings say (their limit, evidence_max_files, is the rule).
MAX_REFS = 100


def plain_text(value: str) -> str:
    """Without control and invisible formatting characters (kept for display only)."""
    return "".join(c for c in value if unicodedata.category(c)[0] != "C" or c == "\n").strip()


class EvidenceRef(BaseModel):
    """A file uploaded first (POST /api/v1/evidence), attached when the report is saved."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        max_length=32,
        description="上传佐证材料后得到的编号（POST /api/v1/evidence）",
        json_schema_extra={"pattern": EVIDENCE_ID},
    )
    caption: str = Field(default="", max_length=200, description="说明，如「长者食堂外景」")

    @field_validator("caption")
    @classmethod
    def _plain(cls, value: str) -> str:
        return plain_text(value)


EVIDENCE_DESCRIPTION = (
    "佐证材料：先上传文件（POST /api/v1/evidence）得到编号，保存时随报告附上；修订时列出要保留的上一版本的文件"
)


class EvidencePublic(BaseModel):
    """A file as the API shows it; its content at /api/v1/evidence/{id}/content (and thumbnail)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str = Field(description="显示用的文件名（存储时用随机编号）")
    caption: str = ""
    kind: EvidenceKind
    media_type: str
    size_bytes: int
    sha256: str = Field(description="所存文件的 SHA-256（图片为去除 EXIF 重新编码后的文件）")
    has_thumbnail: bool
    state: EvidenceState = Field(description="pending 已上传待随报告保存 | attached 已随报告保存")
    uploaded_by: str
    uploaded_at: dt.datetime


class AttachedEvidence(EvidencePublic):
    """A file with the report (or task status) it is saved with."""

    report_id: int | None = None
    task_status_id: int | None = None


class EvidenceIndex(BaseModel):
    data: list[AttachedEvidence]
    count: int


class EvidenceKindRule(BaseModel):
    kind: EvidenceKind
    label: str
    media_type: str
    extensions: list[str]


class EvidenceRules(BaseModel):
    """What the upload area tells a clerk before they choose files: the service's own limits."""

    kinds: list[EvidenceKindRule]
    max_file_bytes: int
    max_report_bytes: int
    max_files: int
    pending_hours: float
    summary: str
