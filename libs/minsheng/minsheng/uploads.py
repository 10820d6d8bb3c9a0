"""Files people upload, read within bounds: the one guard every uploaded file passes before it is parsed.

A file cheap to send can be dear to read: an 820 KB .xlsx whose sheet inflates to 800 MB kept a service
busy past the gateway's 30 s.  So, in this order (`UploadGuard.read`):

1. An archive (.xlsx is a zip) is judged from its directory alone, before anything is inflated: the
   entry count, each entry's declared size, their sum and each entry's compression ratio, against the
   limits of `ProcessSettings` (`upload_*`).  Python's zipfile never inflates past an entry's declared
   size (and checks its CRC), so the declared sizes bound the work whatever the data says.
2. Every part of the archive is then scanned, inflated within those bounds, for a DTD (`<!DOCTYPE`,
   `<!ENTITY`): Excel and WPS never write one, and entity expansion ("billion laughs") needs one.  A part
   must be UTF-8 XML (or not XML at all), so that the byte scan sees what a parser would.
   Behind this, openpyxl parses with defusedxml (a dependency of the kernel), which refuses entities too.
3. The parse itself runs in a child process (forked from a forkserver that has the parsers imported),
   killed once `upload_parse_seconds` have passed: a thread cannot be stopped, and a parse that
   cannot be stopped is not bounded.  The request's thread waits on the child, never the event loop;
   at most `upload_parse_concurrency` parses run at once per process, the rest wait at most as long as one
   parse may take and are then told to retry (503).
4. The parsers bound rows and columns as they read them (`bounded_rows`).

Every refusal is a 4xx with a Chinese message and a code (`upload_*`); nothing is written before it.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import re
import struct
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import forkserver
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from minsheng.errors import DomainError, Overloaded, Unprocessable
from minsheng.settings import ProcessSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
MB = 1024 * 1024
# A small part may compress very well (a run of blanks); the ratio counts from this size on.
RATIO_APPLIES_FROM = MB
SCAN_CHUNK = 1024 * 1024
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_XML_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
# How UTF-16 and UTF-32 XML starts (with or without a byte order mark): a byte scan would not see its DTD.
_WIDE_XML_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00\xfe\xff", b"\x00\x00\x00<")
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")
# The modules a parse needs, imported once in the forkserver so that each child starts at once; uvicorn's
# too, since a child runs the parent's main script again (`uvicorn …` imports just uvicorn.main; `python -m
# uvicorn` runs nothing again).
PARSER_MODULES = [
    "minsheng.uploads",
    "minsheng.reporting.files",
    "minsheng.reporting.workbook",
    "minsheng.evidence.content",
    "minsheng.catalog.breakdown",
    "uvicorn.main",
]
_FORKSERVER = multiprocessing.get_context("forkserver")

UNREADABLE_WORKBOOK = "无法读取 Excel 文件：请上传用 Excel 或 WPS 保存的 .xlsx 工作簿（.xls 请另存为 .xlsx）"
RESAVE = "本次未读取、未保存任何数据；请只保留填报所需的工作表和行，用 Excel 或 WPS 另存为 .xlsx 后重新上传"


@dataclass(frozen=True)
class ArchiveWording:
    """How the archive checks speak of the file: a workbook to report from (the default), or a Word or Excel
    file kept as 佐证材料 (minsheng.evidence)."""

    kind: str = "Excel 工作簿"
    unreadable: str = UNREADABLE_WORKBOOK
    advice: str = RESAVE


WORKBOOK = ArchiveWording()


class ContentTooLarge(DomainError):
    """What the file would become once read is over a limit, however small it was to send."""

    status_code = 413
    code = "upload_too_large_unpacked"


@dataclass(frozen=True)
class UploadLimits:
    max_unpacked_bytes: int
    max_entry_bytes: int
    max_entries: int
    max_compression_ratio: float
    max_rows: int
    max_columns: int
    parse_seconds: float

    @classmethod
    def from_settings(cls, settings: ProcessSettings) -> UploadLimits:
        return cls(
            max_unpacked_bytes=settings.upload_max_unpacked_bytes,
            max_entry_bytes=settings.upload_max_entry_bytes,
            max_entries=settings.upload_max_entries,
            max_compression_ratio=settings.upload_max_compression_ratio,
            max_rows=settings.upload_max_rows,
            max_columns=settings.upload_max_columns,
            parse_seconds=settings.upload_parse_seconds,
        )


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


def is_archive(filename: str, content: bytes) -> bool:
    return (filename or "").lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04"


def _declared_entries(content: bytes, wording: ArchiveWording) -> tuple[int, int]:
    """(entries, bytes of the central directory) as the end record says, read before zipfile reads the
    directory itself (a directory of a million entries costs memory to read)."""
    at = content.rfind(b"PK\x05\x06", max(0, len(content) - _END_OF_DIRECTORY.size - 0xFFFF))
    if at < 0 or len(content) - at < _END_OF_DIRECTORY.size:
        raise Unprocessable(wording.unreadable, code="unreadable_file")
    _, _, _, _, entries, directory_size, _, _ = _END_OF_DIRECTORY.unpack_from(content, at)
    return entries, directory_size


def check_archive(content: bytes, limits: UploadLimits, wording: ArchiveWording = WORKBOOK) -> list[str]:
    """Refuses an archive whose directory declares more than the limits, or a part with a DTD.  The
    directory is judged before any part is inflated: the time it takes does not depend on the sizes
    it declares.  Returns the names of its parts."""
    entries, directory_size = _declared_entries(content, wording)
    # A directory record is 46 bytes and a name; a workbook's names are short.  0xFFFF: a ZIP64 count.
    if entries > limits.max_entries or entries == 0xFFFF or directory_size > limits.max_entries * 1024:
        raise _too_many_entries(entries, limits, wording)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise Unprocessable(wording.unreadable, code="unreadable_file") from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.max_entries:
            raise _too_many_entries(len(parts), limits, wording)
        total = 0
        for part in parts:
            if part.flag_bits & 0x1 or part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise Unprocessable(  # encrypted, or a compression Excel does not write
                    f"{wording.unreadable}（文件中的「{part.filename}」已加密或压缩方式不受支持）",
                    code="unreadable_file",
                )
            if part.file_size > limits.max_entry_bytes:
                raise ContentTooLarge(
                    f"文件中的「{part.filename}」解压后为 {_megabytes(part.file_size)} MB，"
                    f"超过单个部分 {_megabytes(limits.max_entry_bytes)} MB 的上限。{wording.advice}",
                    extra={"max_bytes": limits.max_entry_bytes},
                )
            ratio = part.file_size / max(part.compress_size, 1)
            if part.file_size >= RATIO_APPLIES_FROM and ratio > limits.max_compression_ratio:
                raise ContentTooLarge(
                    f"文件中的「{part.filename}」压缩比异常：解压后是压缩时的 {ratio:.0f} 倍"
                    f"（上限 {limits.max_compression_ratio:g} 倍），不像正常的{wording.kind}。{wording.advice}",
                    code="upload_compression_ratio",
                )
            total += part.file_size
        if total > limits.max_unpacked_bytes:
            raise ContentTooLarge(
                f"文件解压后合计 {_megabytes(total)} MB，超过 {_megabytes(limits.max_unpacked_bytes)} MB 的上限"
                f"（上传的文件只有 {_megabytes(len(content))} MB，内容却被大量压缩）。{wording.advice}",
                extra={"max_bytes": limits.max_unpacked_bytes},
            )
        for part in parts:
            _check_part(archive, part, wording)
        return [part.filename for part in parts]


def _too_many_entries(entries: int, limits: UploadLimits, wording: ArchiveWording) -> ContentTooLarge:
    return ContentTooLarge(
        f"文件内部包含 {entries} 个部分，超过 {limits.max_entries} 个的上限，不像正常的{wording.kind}。"
        f"{wording.advice}",
        code="upload_too_many_entries",
    )


def _check_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, wording: ArchiveWording) -> None:
    """A part with a DTD is refused, and so is XML in an encoding the byte scan could not read."""
    tail = b""
    try:
        with archive.open(part) as stream:
            first = True
            while chunk := stream.read(SCAN_CHUNK):
                if first:
                    _check_encoding(part.filename, chunk, wording)
                    first = False
                window = tail + chunk
                if any(marker in window for marker in DTD_MARKERS):
                    raise Unprocessable(
                        f"文件中的「{part.filename}」含有 DTD 或实体声明（<!DOCTYPE、<!ENTITY>），"
                        f"Office 和 WPS 保存的{wording.kind}不会有这些内容，为安全起见不予读取。{wording.advice}",
                        code="upload_xml_entities",
                    )
                tail = window[-(max(map(len, DTD_MARKERS)) - 1) :]
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:  # damaged data, bad CRC
        raise Unprocessable(wording.unreadable, code="unreadable_file") from exc


def _check_encoding(name: str, start: bytes, wording: ArchiveWording) -> None:
    declared = _XML_DECLARATION.match(start)
    wide = start.startswith(_WIDE_XML_STARTS)
    if wide or declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise Unprocessable(
            f"文件中的「{name}」不是 UTF-8 编码的 XML，Office 和 WPS 保存的{wording.kind}不会这样，"
            f"为安全起见不予读取。{wording.advice}",
            code="upload_xml_encoding",
        )


def bounded_rows(rows: Iterable[Sequence[Any]], limits: UploadLimits, where: str) -> Iterator[Sequence[Any]]:
    """The rows of a sheet or CSV as they are read, refused past `max_rows` rows (blank ones counted:
    they cost reading too) or a value past `max_columns` columns. `where` names the sheet or file."""
    for number, row in enumerate(rows, start=1):
        if number > limits.max_rows:
            raise Unprocessable(
                f"{where}超过 {limits.max_rows} 行（空行也计算在内），不予读取。"
                "本次未保存任何数据；请删除多余的行（或分成几个文件）后重新上传",
                code="upload_too_many_rows",
            )
        if len(row) > limits.max_columns and any(value not in (None, "") for value in row[limits.max_columns :]):
            raise Unprocessable(
                f"{where}第 {number} 行在第 {limits.max_columns} 列之后还有内容，超过列数上限，不予读取。"
                "本次未保存任何数据；请删除多余的列后重新上传",
                code="upload_too_many_columns",
            )
        yield row


# ---- the bounded parse ---------------------------------------------------------------------------


def start_parser_server() -> None:
    """Starts the forkserver with the parsers imported (about a second, once per process): at start-up,
    so that the first upload does not wait for it."""
    forkserver.set_forkserver_preload(PARSER_MODULES)
    forkserver.ensure_running()


def _child(sender: Any, function: Callable[..., Any], args: tuple) -> None:
    """Runs in the child: the outcome goes back as plain data (a DomainError's keyword arguments do not
    survive pickling as an exception)."""
    try:
        outcome: tuple = ("ok", function(*args))
    except DomainError as exc:
        outcome = ("refused", type(exc), exc.detail, exc.code, exc.extra)
    except MemoryError:
        outcome = ("memory",)
    except Exception as exc:  # noqa: BLE001 - a fault of ours: said to the parent, which raises it
        outcome = ("failed", f"{type(exc).__name__}: {exc}")
    sender.send(outcome)
    sender.close()


class UploadGuard:
    """One per process (`app.state.upload_guard`): the limits, and the slots for parses at once."""

    def __init__(self, limits: UploadLimits, concurrency: int):
        self.limits = limits
        self._slots = threading.BoundedSemaphore(max(1, concurrency))

    @classmethod
    def from_settings(cls, settings: ProcessSettings) -> UploadGuard:
        return cls(UploadLimits.from_settings(settings), settings.upload_parse_concurrency)

    def read(self, filename: str, content: bytes, parse: Callable[..., T], *args: Any) -> T:
        """`parse(filename, content, limits, *args)`, in a child process, once `content` has passed the
        archive checks.  Call it from a worker thread (a sync route), never on the event loop."""
        if is_archive(filename, content):
            check_archive(content, self.limits)
        return self.run(parse, filename, content, self.limits, *args)

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a child process, bounded in time and memory like a parse, with the same slots
        (e.g. an evidence file's checks and re-encoding, which run their own archive checks)."""
        if not self._slots.acquire(timeout=self.limits.parse_seconds):
            raise Overloaded("系统正在读取其他上传的文件，本次未读取、未保存任何数据，请稍后重新上传")
        try:
            return self._run(function, args)
        finally:
            self._slots.release()

    def _run(self, function: Callable[..., T], args: tuple) -> T:
        start_parser_server()  # at once when it runs; started again if it was stopped
        receiver, sender = _FORKSERVER.Pipe(duplex=False)
        child = _FORKSERVER.Process(target=_child, args=(sender, function, args), daemon=True, name="upload-parse")
        child.start()
        sender.close()  # the child holds its end: EOF here once it exits
        try:
            if not receiver.poll(self.limits.parse_seconds):
                child.kill()  # at once: whatever it was doing, it has had its time
                log.warning("upload parse stopped after %.1f s", self.limits.parse_seconds)
                raise Unprocessable(
                    f"文件在 {self.limits.parse_seconds:g} 秒内未能读完（内容过多或结构过于复杂），"
                    f"已停止读取。{RESAVE}",
                    code="upload_parse_timeout",
                )
            try:
                outcome = receiver.recv()
            except EOFError:  # the child died without an answer: killed for its memory, most likely
                outcome = ("memory",)
        finally:
            receiver.close()
            child.join(timeout=1.0)  # it exits once it has answered
            if child.is_alive():
                child.kill()
                child.join()
        kind, *rest = outcome
        if kind == "ok":
            return rest[0]
        if kind == "refused":
            error_class, detail, code, extra = rest
            raise error_class(detail, code=code, extra=extra)
        if kind == "memory":
            raise ContentTooLarge(f"文件内容过多，读取时超出了可用内存，已停止读取。{RESAVE}")
        raise RuntimeError(f"upload parse failed in the child process: {rest[0]}")


async def _upload_guard(request: Request) -> UploadGuard:
    return request.app.state.upload_guard


UploadGuardDep = Annotated[UploadGuard, Depends(_upload_guard)]
