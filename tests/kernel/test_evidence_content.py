"""What an evidence file is, decided from its content (minsheng.evidence.content): the allowed kinds pass, the
bad inputs of issue 28 are refused with a Chinese message and a code, images lose their EXIF (GPS) and get a
thumbnail, names are for display only."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from minsheng.errors import DomainError
from minsheng.evidence.content import (
    CleanFile,
    EvidenceKind,
    EvidenceLimits,
    EvidenceRefused,
    display_name,
    inspect,
)
from minsheng.settings import ProcessSettings
from minsheng.uploads import UploadGuard, UploadLimits
from tests.support import evidence_files as files

ARCHIVE = UploadLimits.from_settings(ProcessSettings(port=1, database_url="postgresql://x"))
LIMITS = EvidenceLimits(archive=ARCHIVE, image_max_pixels=60_000_000, thumbnail_pixels=320)


def refused(name: str, content: bytes, limits: EvidenceLimits = LIMITS) -> DomainError:
    with pytest.raises(DomainError) as caught:
        inspect(name, content, limits)
    error = caught.value
    assert 400 <= error.status_code < 500
    assert "未保存" in error.detail or "不予" in error.detail, error.detail
    return error


# ---- the allowed kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("验收证书.pdf", files.pdf, EvidenceKind.pdf),
        ("长者食堂.jpg", files.jpeg, EvidenceKind.jpeg),
        ("截图.png", files.png, EvidenceKind.png),
        ("情况说明.docx", files.office, EvidenceKind.docx),
        ("家庭养老床位名单.xlsx", files.xlsx, EvidenceKind.xlsx),
    ],
)
def test_each_allowed_kind_is_recognised_from_its_content(name, make, kind):
    kept = inspect(name, make(), LIMITS)
    assert kept.kind is kind
    assert kept.filename == name
    assert (kept.thumbnail is not None) == (kind in (EvidenceKind.jpeg, EvidenceKind.png))


def test_the_kind_comes_from_the_content_not_the_name():
    kept = inspect("scan.docx", files.pdf(), LIMITS)
    assert kept.kind is EvidenceKind.pdf
    assert kept.media_type == "application/pdf"
    assert kept.filename == "scan.docx.pdf"  # shown with the extension of what it is


def test_a_photo_loses_its_gps_position_and_keeps_its_orientation():
    original = files.jpeg(64, 48, gps=True, orientation=6)  # 6: the camera was turned; shown rotated 90°
    assert Image.open(io.BytesIO(original)).getexif().get(files.GPS_TAG)

    kept = inspect("现场照片.jpg", original, LIMITS)

    image = Image.open(io.BytesIO(kept.content))
    assert image.format == "JPEG"
    assert not image.getexif(), "EXIF (with the GPS position) must be gone"
    assert b"Exif" not in kept.content[:200] and b"Camera maker" not in kept.content
    assert image.size == (48, 64), "the orientation is applied before EXIF is dropped"
    thumbnail = Image.open(io.BytesIO(kept.thumbnail))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 320


def test_a_png_loses_its_text_chunks_and_a_large_one_gets_a_small_thumbnail():
    kept = inspect("图.png", files.png(1200, 900, text="home address"), LIMITS)
    assert b"home address" not in kept.content
    assert Image.open(io.BytesIO(kept.content)).size == (1200, 900)
    assert Image.open(io.BytesIO(kept.thumbnail)).size == (320, 240)


# ---- the bad inputs of the issue ---------------------------------------------------------------------------


def test_a_renamed_executable_is_refused_whatever_its_name():
    error = refused("photo.jpg", files.EXE)
    assert error.code == "evidence_executable"
    assert "可执行程序" in error.detail and "photo.jpg" in error.detail


def test_an_elf_binary_and_a_script_are_refused():
    assert refused("a.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64).code == "evidence_executable"
    assert refused("a.png", b"#!/bin/sh\nrm -rf /\n").code == "evidence_executable"


def test_svg_is_refused():
    error = refused("图表.svg", files.SVG)
    assert error.code == "evidence_svg" and "SVG" in error.detail
    assert refused("plain.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>').code == "evidence_svg"


def test_an_empty_file_is_refused():
    error = refused("空.pdf", b"")
    assert error.code == "evidence_empty" and "0 字节" in error.detail


@pytest.mark.parametrize(
    "body",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",  # names spelled with #xx escapes
        b"/AA << /O << /S /Launch /F (cmd.exe) >> >>",
        b"/Names << /EmbeddedFiles 9 0 R >>",
    ],
)
def test_a_pdf_with_active_content_is_refused(body):
    error = refused("通知.pdf", files.pdf(body))
    assert error.code == "evidence_pdf_active"
    assert "打印为 PDF" in error.detail


def test_javascript_hidden_in_a_compressed_object_stream_is_found():
    error = refused("隐藏.pdf", files.pdf_with_javascript_in_object_stream())
    assert error.code == "evidence_pdf_active" and "JavaScript" in error.detail


def test_an_encrypted_pdf_is_refused_as_uncheckable():
    error = refused(
        "加密.pdf",
        files.pdf(b"", extra_objects=[b"<< /Filter /Standard /V 2 >>"]).replace(
            b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 4 0 R"
        ),
    )
    assert error.code == "evidence_pdf_encrypted"


def test_a_zip_bomb_inside_a_docx_is_refused_before_it_is_inflated():
    bomb = files.zip_bomb_docx()
    assert len(bomb) < 1024 * 1024
    error = refused("方案.docx", bomb)
    assert error.status_code == 413
    assert error.code in ("upload_compression_ratio", "upload_too_large_unpacked")
    assert "Word 或 Excel" in error.detail or "解压后" in error.detail


def test_office_files_with_macros_embedded_programs_or_external_templates_are_refused():
    macro = files.office(extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert refused("宏.docx", macro).code == "evidence_macro"
    ole = files.office("xlsx", extra={"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"})
    assert refused("嵌入.xlsx", ole).code == "evidence_embedded"
    external = files.office(
        extra={
            "word/_rels/settings.xml.rels": b'<Relationships><Relationship Id="r1" Type="http://x/attachedTemplate" '
            b'Target="http://example.invalid/t.dotm" TargetMode="External"/></Relationships>'
        }
    )
    assert refused("模板.docx", external).code == "evidence_external_link"
    hyperlink = files.office(
        extra={
            "word/_rels/document.xml.rels": b'<Relationships><Relationship Id="r1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
            b'Target="https://www.zibo.gov.cn/" TargetMode="External"/></Relationships>'
        }
    )
    assert inspect("链接.docx", hyperlink, LIMITS).kind is EvidenceKind.docx  # a link is only followed when clicked


def test_a_plain_zip_or_an_old_office_file_is_refused_with_what_to_do():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    assert refused("资料.zip", buffer.getvalue()).code == "evidence_unsupported_type"
    error = refused("旧.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert ".docx" in error.detail


def test_a_polyglot_jpeg_with_a_zip_appended_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<b>x</b>")
    error = refused("照片.jpg", files.jpeg() + buffer.getvalue())
    assert error.code == "evidence_polyglot"


def test_a_jpeg_with_html_in_a_comment_is_refused():
    original = files.jpeg()
    comment = b"<html><script>alert(document.cookie)</script></html>"
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    polyglot = original[:2] + segment + original[2:]
    assert Image.open(io.BytesIO(polyglot)).size == (64, 48)  # still a valid image
    assert refused("照片.jpg", polyglot).code == "evidence_polyglot"


def test_a_zip_with_a_pdf_header_near_its_start_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", b"%PDF-1.4 fake header")
        archive.writestr("word/document.xml", b"<document/>")
    assert refused("双重.docx", buffer.getvalue()).code == "evidence_polyglot"


def test_other_image_formats_say_how_to_convert():
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert "JPG 或 PNG" in refused("动图.gif", gif.getvalue()).detail
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
    assert "兼容性最佳" in refused("IMG_0001.HEIC", heic).detail


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded():
    huge = files.png(12000, 6000, mode="1")  # 72 million pixels in a few KB
    assert len(huge) < 100_000
    error = refused("大图.png", huge)
    assert error.code == "evidence_too_many_pixels" and "百万像素" in error.detail


def test_a_damaged_image_is_refused():
    assert refused("坏.jpg", files.jpeg()[:300]).code == "evidence_unreadable"


# ---- names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\Desktop\\验收.pdf", "验收.pdf"),
        ("验收\x00证书\r\n.pdf", "验收证书.pdf"),
        ("report\u202egpj.exe.pdf", "reportgpj.exe.pdf"),  # the right-to-left override is gone
        ("...", "佐证材料.pdf"),
        ("", "佐证材料.pdf"),
        ("名单.PDF", "名单.pdf"),
        ("a" * 300 + ".pdf", "a" * 100 + ".pdf"),
    ],
)
def test_names_are_kept_for_display_only_without_paths_or_control_characters(raw, shown):
    assert display_name(raw, EvidenceKind.pdf) == shown


def test_the_check_runs_in_the_upload_guards_child_process():
    guard = UploadGuard(ARCHIVE, concurrency=1)
    kept = guard.run(inspect, "照片.jpg", files.jpeg(gps=True), LIMITS)
    assert isinstance(kept, CleanFile) and kept.kind is EvidenceKind.jpeg
    with pytest.raises(EvidenceRefused) as caught:
        guard.run(inspect, "x.jpg", files.EXE, LIMITS)
    assert caught.value.code == "evidence_executable"
