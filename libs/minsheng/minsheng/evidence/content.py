"""What an uploaded evidence file is, decided from its bytes (never its name), and the file as it is kept.

Allowed: PDF, JPEG, PNG, DOCX, XLSX.  Refused, each with a Chinese message and a code a clerk can act on: an
empty file, an executable or script whatever its name, SVG and HTML, other image formats (with how to convert
them), a PDF with JavaScript or other active content (or encrypted, so that it cannot be checked), a Word or
Excel file with macros, ActiveX, embedded programs or links that fetch content from elsewhere, a zip bomb
(`minsheng.uploads.check_archive`), and polyglots: a file that is also another kind of file (HTML or a PDF
inside an image, a ZIP appended to it, a PDF header inside an archive).

Images are decoded and encoded again (Pillow): only their pixels are kept, so EXIF (the GPS position of the
photo, of someone's home), comments and anything appended are gone, and the orientation the camera noted is
applied first.  Each gets a JPEG thumbnail.

`inspect` runs in the upload guard's child process (`UploadGuard.run`): bounded in time and memory, and a
fault in a decoder stays there.
"""

from __future__ import annotations

import base64
import binascii
import enum
import io
import re
import unicodedata
import warnings
import zlib
from dataclasses import dataclass

from minsheng.errors import Unprocessable
from minsheng.uploads import ArchiveWording, UploadLimits, check_archive

MAX_NAME = 100  # characters of a displayed name, before its extension


class EvidenceKind(str, enum.Enum):
    pdf = "pdf"
    jpeg = "jpeg"
    png = "png"
    docx = "docx"
    xlsx = "xlsx"


MEDIA_TYPES = {
    EvidenceKind.pdf: "application/pdf",
    EvidenceKind.jpeg: "image/jpeg",
    EvidenceKind.png: "image/png",
    EvidenceKind.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    EvidenceKind.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {
    EvidenceKind.pdf: ("pdf",),
    EvidenceKind.jpeg: ("jpg", "jpeg"),
    EvidenceKind.png: ("png",),
    EvidenceKind.docx: ("docx",),
    EvidenceKind.xlsx: ("xlsx",),
}
KIND_LABELS = {
    EvidenceKind.pdf: "PDF",
    EvidenceKind.jpeg: "JPG 照片",
    EvidenceKind.png: "PNG 图片",
    EvidenceKind.docx: "Word 文档",
    EvidenceKind.xlsx: "Excel 表格",
}
IMAGES = (EvidenceKind.jpeg, EvidenceKind.png)
ALLOWED = "PDF、JPG、PNG、Word（.docx）、Excel（.xlsx）"
OFFICE = ArchiveWording(
    kind="Word 或 Excel 文件",
    unreadable="无法读取该 Word/Excel 文件：请上传用 Office 或 WPS 保存的 .docx 或 .xlsx 文件",
    advice="本次未保存该文件；请用 Office 或 WPS 重新保存（或另存为 PDF）后再上传",
)


class EvidenceRefused(Unprocessable):
    code = "evidence_refused"


@dataclass(frozen=True)
class EvidenceLimits:
    archive: UploadLimits
    image_max_pixels: int
    thumbnail_pixels: int


@dataclass(frozen=True)
class CleanFile:
    """A file as it is kept: its kind, the name to show, its bytes (images: encoded again) and a thumbnail."""

    kind: EvidenceKind
    filename: str
    content: bytes
    thumbnail: bytes | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]


def _refuse(name: str, why: str, code: str) -> EvidenceRefused:
    return EvidenceRefused(f"「{name}」{why}，未保存", code=code)


# ---- names ------------------------------------------------------------------------------------------------


def display_name(raw: str | None, kind: EvidenceKind) -> str:
    """The name shown for a file (never a path, never used for storage): without folders, control or invisible
    formatting characters (a right-to-left override makes "exe.pdf" look like "fdp.exe"), at most `MAX_NAME`
    characters, ending in the extension of its real kind."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and unicodedata.category(c) not in ("Zl", "Zp"))
    name = " ".join(name.split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in EXTENSIONS[kind]:
        stem, extension = name, EXTENSIONS[kind][0]
    stem = stem.strip(" .")[:MAX_NAME] or "佐证材料"
    return f"{stem}.{extension.lower()}"


# ---- what a file is ---------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markers of another kind of document that no photo, scan or office file of ours contains: a file carrying one
# is two things at once (a polyglot), and a browser or a viewer might take it for the other.
FOREIGN_MARKERS = (b"<script", b"<html", b"<?php", b"<svg", b"<iframe", b"javascript:", b"<!doctype html")
_EXECUTABLES = (
    (b"MZ", "是 Windows 可执行程序（exe/dll）"),
    (b"\x7fELF", "是可执行程序（ELF）"),
    (b"\xca\xfe\xba\xbe", "是可执行程序（Mach-O/Java）"),
    (b"\xcf\xfa\xed\xfe", "是可执行程序（Mach-O）"),
    (b"\xfe\xed\xfa\xcf", "是可执行程序（Mach-O）"),
    (b"#!", "是脚本程序"),
)
_OTHER_FORMATS = (
    (b"GIF8", "是 GIF 图片，请转为 JPG 或 PNG 后上传"),
    (b"BM", "是 BMP 图片，请转为 JPG 或 PNG 后上传"),
    (b"II*\x00", "是 TIFF 图片，请转为 JPG、PNG 或 PDF 后上传"),
    (b"MM\x00*", "是 TIFF 图片，请转为 JPG、PNG 或 PDF 后上传"),
    (b"\xd0\xcf\x11\xe0", "是旧版 Office 文件（.doc/.xls），请另存为 .docx/.xlsx 或 PDF 后上传"),
    (b"Rar!", "是压缩包（RAR），请解压后逐个上传"),
    (b"7z\xbc\xaf", "是压缩包（7z），请解压后逐个上传"),
    (b"\x1f\x8b", "是压缩包（gzip），请解压后逐个上传"),
    (b"{\\rtf", "是 RTF 文档，请另存为 .docx 或 PDF 后上传"),
)


def detect(name: str, content: bytes) -> EvidenceKind:
    """The kind of the file from its first bytes, or a refusal saying what it is instead."""
    if not content:
        raise _refuse(name, "是空文件（0 字节）", "evidence_empty")
    head = content[:1024]
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if content.startswith(b"%PDF-"):
        return EvidenceKind.pdf
    if content.startswith(b"\xff\xd8\xff"):
        return EvidenceKind.jpeg
    if content.startswith(PNG_SIGNATURE):
        return EvidenceKind.png
    if content.startswith(b"PK\x03\x04"):
        return _office_kind(name, content)
    for signature, what in _EXECUTABLES:
        if content.startswith(signature):
            raise _refuse(name, f"{what}，不能作为佐证材料上传", "evidence_executable")
    if lowered.startswith(b"<svg") or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        raise _refuse(name, "是 SVG 矢量图（可含脚本），请转为 PNG 或 PDF 后上传", "evidence_svg")
    if lowered.startswith((b"<!doctype html", b"<html", b"<script")):
        raise _refuse(name, "是网页（HTML），请打印为 PDF 后上传", "evidence_html")
    if content[4:8] == b"ftyp":
        if content[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif"):
            raise _refuse(
                name,
                "是 HEIC/AVIF 格式的照片，请在手机相机设置中选择「兼容性最佳」（JPG），或转为 JPG 后上传",
                "evidence_unsupported_type",
            )
        raise _refuse(name, "是视频或音频文件，不能作为佐证材料上传，请上传照片或 PDF", "evidence_unsupported_type")
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        raise _refuse(name, "是 WebP 图片，请转为 JPG 或 PNG 后上传", "evidence_unsupported_type")
    for signature, what in _OTHER_FORMATS:
        if content.startswith(signature):
            raise _refuse(name, what, "evidence_unsupported_type")
    raise _refuse(
        name, f"不是可接受的文件类型（按文件内容判断，与文件名无关）；可上传 {ALLOWED}", "evidence_unsupported_type"
    )


def _check_foreign_markers(name: str, content: bytes) -> None:
    lowered = content.lower()
    for marker in FOREIGN_MARKERS:
        if marker in lowered:
            raise _refuse(
                name,
                f"内含网页或脚本内容（{marker.decode()}），同时是另一种文件（多格式混合文件），为安全起见不予保存；"
                "请用常用软件重新导出后上传",
                "evidence_polyglot",
            )
    if b"%PDF-" in content[1:1024]:
        raise _refuse(name, "开头藏有 PDF 文件头，同时是另一种文件（多格式混合文件），不予保存", "evidence_polyglot")


# ---- PDF ----------------------------------------------------------------------------------------------------

# Names of what a PDF viewer would run, launch or open from inside the file.
ACTIVE_NAMES = {
    b"JavaScript": "含有 JavaScript 脚本",
    b"JS": "含有 JavaScript 脚本",
    b"Launch": "含有启动外部程序的动作",
    b"EmbeddedFile": "内嵌了其他文件",
    b"EmbeddedFiles": "内嵌了其他文件",
    b"RichMedia": "含有多媒体/Flash 内容",
    b"XFA": "是含脚本的 XFA 动态表单",
    b"SubmitForm": "含有向外提交数据的表单动作",
    b"ImportData": "含有导入外部数据的动作",
}
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OBJECT_WITH_STREAM = re.compile(rb"\d+\s+\d+\s+obj\b(.{0,4096}?)\bstream(?:\r\n|\n|\r)", re.DOTALL)
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")


def _pdf_names(data: bytes) -> set[bytes]:
    """Every name in `data`, with #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    names = set()
    for match in _NAME.finditer(data):
        raw = match.group(1)
        names.add(_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw) if b"#" in raw else raw)
    return names


def _decode_stream(data: bytes, filters: list[bytes], budget: int) -> bytes | None:
    """The stream's data through its filters, within `budget` bytes; None when a filter is one we do not read."""
    for name in filters:
        if name in (b"FlateDecode", b"Fl"):
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(data, budget)
            except zlib.error:
                return b""  # damaged: a viewer cannot read it either
        elif name in (b"ASCIIHexDecode", b"AHx"):
            text = re.sub(rb"\s", b"", data).split(b">", 1)[0]
            try:
                data = binascii.unhexlify(text + b"0" * (len(text) % 2))
            except binascii.Error:
                return b""
        elif name in (b"ASCII85Decode", b"A85"):
            try:
                data = base64.a85decode(data.strip().removesuffix(b"~>").removeprefix(b"<~"))
            except ValueError:
                return b""
        else:
            return None
    return data


def _check_pdf(name: str, content: bytes, limits: EvidenceLimits) -> None:
    """Refuses active content (in the file's dictionaries, and in its compressed object streams, where a
    dictionary may hide), encryption (which would hide them from this check), and a ZIP inside."""
    tail = content[-(0xFFFF + 22) :]
    if b"PK\x05\x06" in tail and b"PK\x01\x02" in content:
        raise _refuse(name, "同时是 ZIP 压缩包（多格式混合文件），不予保存", "evidence_polyglot")
    for marker in (b"<script", b"<html", b"<?php", b"<iframe"):
        if marker in content.lower():
            raise _refuse(name, f"内含网页或脚本内容（{marker.decode()}），不予保存", "evidence_polyglot")
    names = _pdf_names(content)
    if b"Encrypt" in names:
        raise _refuse(name, "已加密或设有密码，无法检查其内容；请去除密码后另存为 PDF 再上传", "evidence_pdf_encrypted")
    budget = limits.archive.max_unpacked_bytes
    for match in _OBJECT_WITH_STREAM.finditer(content):
        dictionary = match.group(1)
        if b"/ObjStm" not in dictionary:
            continue  # page content, images, fonts: no dictionaries in there
        start = match.end()
        length = _LENGTH.search(dictionary)
        end = start + int(length.group(1)) if length else content.find(b"endstream", start)
        filters_found = _FILTERS.search(dictionary)
        filters = _NAME.findall(filters_found.group(1)) if filters_found else []
        decoded = _decode_stream(content[start:end], filters, budget)
        if decoded is None:
            raise _refuse(name, "使用了无法检查的压缩方式，请用常用软件另存为 PDF 后上传", "evidence_pdf_unreadable")
        budget -= len(decoded)
        if budget <= 0:
            raise _refuse(name, "内部压缩内容过多，不像正常的 PDF 文件", "upload_too_large_unpacked")
        names |= _pdf_names(decoded)
    for active, why in ACTIVE_NAMES.items():
        if active in names:
            raise _refuse(name, f"{why}，为安全起见不予保存；请用「打印为 PDF」重新生成后上传", "evidence_pdf_active")


# ---- Word and Excel -----------------------------------------------------------------------------------------

_EXTERNAL_TARGET = re.compile(rb"<Relationship\b[^>]*TargetMode=\"External\"[^>]*>", re.IGNORECASE)
_HYPERLINK = b"/relationships/hyperlink"


def _office_kind(name: str, content: bytes) -> EvidenceKind:
    """A ZIP is accepted only as a Word document or an Excel workbook (the parts each must have)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _refuse(name, f"是损坏的或不受支持的压缩文件；可上传 {ALLOWED}", "evidence_unsupported_type") from None
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return EvidenceKind.docx
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return EvidenceKind.xlsx
    raise _refuse(
        name,
        f"是压缩包或其他 Office 文件，不是 Word（.docx）或 Excel（.xlsx）；可上传 {ALLOWED}",
        "evidence_unsupported_type",
    )


def _check_office(name: str, content: bytes, limits: EvidenceLimits) -> None:
    import zipfile

    parts = check_archive(content, limits.archive, OFFICE)  # zip bombs, DTDs, encryption
    for part in parts:
        lowered = part.lower()
        if lowered.endswith("vbaproject.bin") or "/vbadata" in lowered:
            raise _refuse(
                name, "含有宏（VBA），为安全起见不予保存；请另存为不含宏的 .docx/.xlsx 后上传", "evidence_macro"
            )
        if "/activex/" in lowered:
            raise _refuse(name, "含有 ActiveX 控件，为安全起见不予保存", "evidence_macro")
        if "/embeddings/" in lowered and lowered.endswith(".bin"):
            raise _refuse(
                name, "内嵌了程序或其他对象（OLE），为安全起见不予保存；请删除嵌入的对象后上传", "evidence_embedded"
            )
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        content_types = archive.read("[Content_Types].xml")
        if b"macroEnabled" in content_types or b"vbaProject" in content_types:
            raise _refuse(name, "是启用宏的文件，为安全起见不予保存；请另存为 .docx/.xlsx 后上传", "evidence_macro")
        for part in parts:
            if not part.endswith(".rels"):
                continue
            for relation in _EXTERNAL_TARGET.findall(archive.read(part)):
                # A hyperlink is only followed when clicked; an external template or object is fetched on opening.
                if _HYPERLINK not in relation:
                    raise _refuse(
                        name,
                        "会在打开时从外部地址加载内容（外部模板或对象），为安全起见不予保存",
                        "evidence_external_link",
                    )


# ---- images -------------------------------------------------------------------------------------------------


def _jpeg_segments(content: bytes) -> tuple[list[tuple[int, int]], int]:
    """The JPEG's marker segments before and between its scans ((start, end) pairs) and where the image ends
    (after its EOI marker; the file's length when it has none).  The compressed pixels of a scan run to the
    next marker that is neither a stuffed 0xFF nor a restart marker."""
    segments, at, size = [], 2, len(content)
    while at + 2 <= size:
        if content[at] != 0xFF:
            return segments, size  # damaged: the decoder will say so
        marker = content[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return segments, at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            at += 2
            continue
        length = int.from_bytes(content[at + 2 : at + 4], "big")
        segments.append((at, at + 2 + length))
        at += 2 + length
        if marker == 0xDA:
            while True:
                at = content.find(b"\xff", at)
                if at < 0 or at + 1 >= size:
                    return segments, size
                following = content[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    at += 2
                elif following == 0xFF:
                    at += 1
                else:
                    break
    return segments, size


def _png_chunks(content: bytes) -> tuple[list[tuple[int, int]], int]:
    """The PNG's chunks other than its compressed pixels (IDAT), and where the image ends (after IEND)."""
    chunks, at, size = [], 8, len(content)
    while at + 8 <= size:
        length = int.from_bytes(content[at : at + 4], "big")
        kind = content[at + 4 : at + 8]
        end = min(at + 12 + length, size)
        if kind != b"IDAT":
            chunks.append((at + 4, end))
        at = end
        if kind == b"IEND":
            break
    return chunks, at


def _image_parts(kind: EvidenceKind, content: bytes) -> tuple[bytes, bytes]:
    """(the image's parts that are not compressed pixels, what follows the image's end)."""
    parts, end = _png_chunks(content) if kind is EvidenceKind.png else _jpeg_segments(content)
    return b"".join(content[start:stop] for start, stop in parts), content[end:]


_APPENDED_FORMATS = (b"PK\x03\x04", b"PK\x05\x06", b"%PDF", b"MZ", b"\x7fELF", b"Rar!", b"7z\xbc\xaf")


def _clean_image(name: str, kind: EvidenceKind, content: bytes, limits: EvidenceLimits) -> tuple[bytes, bytes]:
    """(the image encoded again from its pixels, a JPEG thumbnail)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _, trailing = _image_parts(kind, content)
    if any(signature in trailing for signature in _APPENDED_FORMATS):
        raise _refuse(name, "图片末尾附带了另一个文件（如压缩包或程序），为安全起见不予保存", "evidence_polyglot")
    # This child process's own limit: Pillow refuses a larger image before decoding it (a "pixel bomb").
    Image.MAX_IMAGE_PIXELS = limits.image_max_pixels
    try:
        with warnings.catch_warnings(), Image.open(io.BytesIO(content)) as opened:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused just below, with its size
            if opened.format != {EvidenceKind.jpeg: "JPEG", EvidenceKind.png: "PNG"}[kind]:
                raise _refuse(name, "的内容与图片格式不符", "evidence_unreadable")
            width, height = opened.size
            if width * height > limits.image_max_pixels:
                raise _too_many_pixels(name, width, height, limits)
            opened.load()
            image = ImageOps.exif_transpose(opened)  # upright as the camera meant it, before EXIF is dropped
            icc = opened.info.get("icc_profile")
    except Image.DecompressionBombError as exc:
        raise _refuse(
            name,
            f"像素过多（超过 {limits.image_max_pixels // 1_000_000} 百万像素），不像正常的照片",
            "evidence_too_many_pixels",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(
            name, "无法读取（图片已损坏或格式不受支持），请重新拍摄或导出后上传", "evidence_unreadable"
        ) from exc
    kept = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if kind is EvidenceKind.jpeg:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(kept, "JPEG", quality=90, **extra)
    else:
        image.save(kept, "PNG", **extra)
    thumbnail = image.copy()
    thumbnail.thumbnail((limits.thumbnail_pixels, limits.thumbnail_pixels))
    if thumbnail.mode in ("RGBA", "LA", "P"):
        thumbnail = thumbnail.convert("RGBA")
        background = Image.new("RGB", thumbnail.size, "white")
        background.paste(thumbnail, mask=thumbnail.getchannel("A"))
        thumbnail = background
    elif thumbnail.mode != "RGB":
        thumbnail = thumbnail.convert("RGB")
    small = io.BytesIO()
    thumbnail.save(small, "JPEG", quality=80)
    return kept.getvalue(), small.getvalue()


def _too_many_pixels(name: str, width: int, height: int, limits: EvidenceLimits) -> EvidenceRefused:
    return _refuse(
        name,
        f"为 {width}×{height} 像素，超过 {limits.image_max_pixels // 1_000_000} 百万像素的上限；请缩小后上传",
        "evidence_too_many_pixels",
    )


# ---- the whole check ----------------------------------------------------------------------------------------


def inspect(filename: str, content: bytes, limits: EvidenceLimits) -> CleanFile:
    """The file as it is kept, or a refusal (`EvidenceRefused`, or the archive checks' `ContentTooLarge`)."""
    shown = (filename or "文件").replace("\\", "/").rsplit("/", 1)[-1][:MAX_NAME] or "文件"
    kind = detect(shown, content)
    name = display_name(filename, kind)
    if kind is EvidenceKind.pdf:
        _check_pdf(name, content, limits)
        return CleanFile(kind, name, content)
    _check_foreign_markers(name, content if kind not in IMAGES else _image_metadata(kind, content))
    if kind in IMAGES:
        cleaned, thumbnail = _clean_image(name, kind, content, limits)
        return CleanFile(kind, name, cleaned, thumbnail)
    _check_office(name, content, limits)
    return CleanFile(kind, name, content)


def _image_metadata(kind: EvidenceKind, content: bytes) -> bytes:
    """The parts of an image that are not its compressed pixels (where HTML or a script would hide), and what
    follows its end: searched for foreign markers, which random pixel data could otherwise match by chance."""
    metadata, trailing = _image_parts(kind, content)
    return metadata + b"\n" + trailing
