"""Files for the evidence tests, made here: good ones of each kind, and the bad inputs of issue 28."""

from __future__ import annotations

import io
import zipfile
import zlib

from PIL import Image

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def jpeg(width: int = 64, height: int = 48, *, gps: bool = False, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):  # the left half blue: shows whether a rotation was applied
        for y in range(height):
            image.putpixel((x, y), (30, 30, 200))
    exif = Image.Exif()
    if gps:
        exif[GPS_TAG] = {1: "N", 2: (36.0, 48.0, 0.0), 3: "E", 4: (118.0, 3.0, 0.0)}  # 淄博
        exif[0x010F] = "Camera maker"
    if orientation:
        exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def png(width: int = 40, height: int = 30, *, text: str | None = None, mode: str = "RGBA") -> bytes:
    from PIL import PngImagePlugin

    image = Image.new(mode, (width, height), (10, 120, 10, 128) if mode == "RGBA" else 1)
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def pdf(body: bytes = b"", *, extra_objects: list[bytes] = ()) -> bytes:
    """A small valid PDF with one page; `body` goes into the catalog's dictionary."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + body + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *extra_objects,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + content + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def pdf_with_javascript_in_object_stream() -> bytes:
    """The JavaScript action's dictionary only inside a compressed object stream (PDF 1.5): invisible to a scan
    of the raw bytes."""
    inner = b"<< /S /JavaScript /JS (app.alert('x')) >>"
    header = b"5 0 "
    data = zlib.compress(header + inner)
    stream = (
        b"<< /Type /ObjStm /N 1 /First "
        + str(len(header)).encode()
        + b" /Length "
        + str(len(data)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + data
        + b"\nendstream"
    )
    return pdf(b"/OpenAction 5 0 R", extra_objects=[stream])


def office(kind: str = "docx", *, extra: dict[str, bytes] | None = None, content_types: bytes | None = None) -> bytes:
    main = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[kind]
    parts = {
        "[Content_Types].xml": content_types
        or b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="x"/>',
        main: b'<?xml version="1.0" encoding="UTF-8"?><document>\xe9\xaa\x8c\xe6\x94\xb6</document>',
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["家庭养老床位", "户数"])
    workbook.active.append(["张店区", 120])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bomb_docx() -> bytes:
    """A .docx whose one part inflates to 48 MB of zeros (about 50 KB sent)."""
    return office(extra={"word/media/filler.xml": b"\0" * (48 * 1024 * 1024)})


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200 + b"This program cannot be run in DOS mode"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
