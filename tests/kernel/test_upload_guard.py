"""Uploads cheap to send and dear to read are refused before they are read (minsheng.uploads): a workbook
whose sheet inflates to 800 MB, a directory that declares more than the limits, too many parts, a
"billion laughs" DTD, rows and columns past the bounds, a parse that runs out of time.  Each gets a
Chinese 4xx with its code, nothing is written, and the service answers the next upload as before."""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import struct
import zipfile
from collections.abc import Callable, Iterator

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from minsheng.reporting.files import XLSX_MEDIA_TYPE
from minsheng.uploads import ContentTooLarge, UploadGuard, UploadLimits, check_archive
from tests.conftest import VIEWER, ZHANGDIAN, free_port
from tests.support.identity import gateway_settings, identity_gateway, sign_in
from tests.support.processes import ServiceProcess

SHEET = "xl/worksheets/sheet1.xml"
HEADER = ["指标编号", "单位代码", "期间", "数值"]
FILLED = ["T002-1", "370303", "2022-06", 1]  # what 张店区 reports, as a district clerk would
# A row openpyxl and Excel read (no `r`: the next row) that deflate squeezes ~340 times.
BLANK_ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
UPLOAD = "/api/v1/reports/upload"
ANNOTATE = "/api/v1/reports/upload/annotated"


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


def base_parts() -> dict[str, bytes]:
    """A real workbook as openpyxl saves it: the template's sheet name, a header and one filled row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "填报"
    sheet.append(HEADER)
    sheet.append(FILLED)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def workbook(
    more_rows: Callable[[Callable[[bytes], object]], None] | None = None, parts: dict[str, bytes] | None = None
) -> bytes:
    """`base_parts` zipped again: `more_rows` writes rows after the filled one, streamed into the zip
    (never held whole), and `parts` replaces or adds parts."""
    originals = {**base_parts(), **(parts or {})}
    head, tail = originals[SHEET].split(b"</sheetData>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in originals.items():
            if name != SHEET:
                archive.writestr(name, data)
        info = zipfile.ZipInfo(SHEET, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as stream:
            stream.write(head)
            if more_rows:
                more_rows(stream.write)
            stream.write(b"</sheetData>" + tail)
    return out.getvalue()


def blank_rows(total_bytes: int) -> Callable[[Callable[[bytes], object]], None]:
    """Blank rows making (just over) `total_bytes`, 8 MB at a time."""

    def write(put: Callable[[bytes], object]) -> None:
        rows, per_chunk = -(-total_bytes // len(BLANK_ROW)), 8 * 1024 * 1024 // len(BLANK_ROW)
        chunk = BLANK_ROW * per_chunk
        for _ in range(rows // per_chunk):
            put(chunk)
        put(BLANK_ROW * (rows % per_chunk))

    return write


def numbered_rows(count: int) -> Callable[[Callable[[bytes], object]], None]:
    """`count` rows after the filled one, each its own text (deflate cannot squeeze them much)."""

    def write(put: Callable[[bytes], object]) -> None:
        for number in range(3, count + 3):
            put(f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>X{number}</t></is></c></row>'.encode())

    return write


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """The workbook of the incident: a valid sheet whose rows inflate to 800 MB, sent as about 2 MB."""
    return workbook(blank_rows(800 * 1024 * 1024))


def post(client: httpx.Client, content: bytes, path: str = UPLOAD, name: str = "张店区7月.xlsx", headers=ZHANGDIAN):
    return client.post(path, headers=headers, files={"file": (name, content, XLSX_MEDIA_TYPE)})


def nothing_written_and_still_answering(education: TestClient) -> None:
    """Nothing was saved; and the same clerk's ordinary workbook is read and saved at once after."""
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0
    normal = post(education, workbook())
    assert normal.status_code == 201, normal.text
    assert [(r["indicator"], r["org_unit"], r["value"]) for r in normal.json()["data"]] == [("T002-1", "370303", 1.0)]


# ---- the zip bomb, as the district clerk posted it ---------------------------------------------------


@pytest.fixture
def gateway(education, make_database) -> Iterator[TestClient]:
    app = identity_gateway(gateway_settings(make_database("gateway")), httpx.ASGITransport(app=education.app))
    with TestClient(app) as client:
        yield client


def test_the_800_mb_workbook_is_refused_through_the_gateway_in_chinese_and_nothing_is_written(
    gateway, education, zip_bomb
):
    with zipfile.ZipFile(io.BytesIO(zip_bomb)) as archive:
        assert archive.getinfo(SHEET).file_size > 800 * 1024 * 1024 and len(zip_bomb) < 4 * 1024 * 1024
    csrf = sign_in(gateway, "demo-zhangdian")
    refused = gateway.post(
        "/api/v1/campaigns/education/reports/upload",
        headers=csrf,
        files={"file": ("张店区7月.xlsx", zip_bomb, XLSX_MEDIA_TYPE)},
    )
    assert refused.status_code == 413, refused.text
    body = refused.json()
    limit = education.app.state.settings.upload_max_entry_bytes
    assert body["code"] == "upload_too_large_unpacked" and body["max_bytes"] == limit
    assert f"「{SHEET}」解压后为 800 MB" in body["detail"] and "未保存任何数据" in body["detail"]
    nothing_written_and_still_answering(education)


def test_the_800_mb_workbook_is_not_marked_either(education, zip_bomb):
    refused = post(education, zip_bomb, path=ANNOTATE)
    assert refused.status_code == 413 and refused.json()["code"] == "upload_too_large_unpacked"
    nothing_written_and_still_answering(education)


def with_declared_size(content: bytes, name: str, size: int) -> bytes:
    """The archive with the central directory's record of `name` claiming `size` bytes inflated; its
    data stays as it was (so inflating it would fail its size and CRC checks)."""
    at = content.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", content, at + 28)[0]
        if content[at + 46 : at + 46 + name_length] == name.encode():
            break
        extra, comment = struct.unpack_from("<HH", content, at + 30)
        at = content.index(b"PK\x01\x02", at + 46 + name_length + extra + comment)
    return content[: at + 24] + struct.pack("<L", size) + content[at + 28 :]


@pytest.mark.parametrize("path", [UPLOAD, ANNOTATE])
def test_sizes_are_judged_from_the_directory_before_anything_is_inflated(education, path):
    # The data inflates to a few hundred bytes; only the directory says 800 MB. Refused for what it
    # says (not as damaged data, which inflating it would have found): nothing was inflated first.
    lying = with_declared_size(workbook(), SHEET, 800 * 1024 * 1024)
    limits = education.app.state.upload_guard.limits
    with pytest.raises(ContentTooLarge) as refused:
        check_archive(lying, limits)
    assert refused.value.code == "upload_too_large_unpacked"
    answer = post(education, lying, path=path)
    assert answer.status_code == 413 and answer.json()["code"] == "upload_too_large_unpacked"
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0


def test_a_part_compressed_far_more_than_a_sheet_is_refused(education):
    # 6 MB inflated: under the size limits, but squeezed ~340 times where a real sheet is ~10.
    refused = post(education, workbook(blank_rows(6 * 1024 * 1024)))
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "upload_compression_ratio" and "压缩比异常" in refused.json()["detail"]
    nothing_written_and_still_answering(education)


def test_a_workbook_of_too_many_parts_is_refused(education):
    parts = {f"xl/media/part{n}.bin": b"" for n in range(600)}
    refused = post(education, workbook(parts=parts))
    assert refused.status_code == 413
    assert (
        refused.json()["code"] == "upload_too_many_entries" and "609 个部分" in refused.json()["detail"]
    )  # and the 9 of the workbook
    nothing_written_and_still_answering(education)


# ---- entity expansion --------------------------------------------------------------------------------

LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">'.encode() for n in range(1, 10))
    + b"]>"
)


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml"])
def test_a_billion_laughs_part_is_refused_before_any_parser_reads_it(education, part):
    original = base_parts()[part]
    laughing = LAUGHS + original.replace(b"<t>T002-1</t>", b"<t>&lol9;</t>")
    refused = post(education, workbook(parts={part: laughing}))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "upload_xml_entities"
    assert f"「{part}」含有 DTD 或实体声明" in refused.json()["detail"]
    nothing_written_and_still_answering(education)


def test_a_part_in_utf16_is_refused_since_the_scan_could_not_read_it(education):
    book = base_parts()["xl/workbook.xml"].decode().split("?>", 1)[-1]
    wide = ('<?xml version="1.0" encoding="UTF-16"?>' + book).encode("utf-16")
    refused = post(education, workbook(parts={"xl/workbook.xml": wide}))
    assert refused.status_code == 422 and refused.json()["code"] == "upload_xml_encoding"
    nothing_written_and_still_answering(education)


def test_openpyxl_parses_with_defusedxml_behind_the_scan():
    assert openpyxl.DEFUSEDXML is True


# ---- rows, columns and time --------------------------------------------------------------------------


def test_a_sheet_past_the_row_bound_is_refused_as_it_is_read(education):
    limit = education.app.state.upload_guard.limits.max_rows
    refused = post(education, workbook(numbered_rows(limit)))  # with the header and the filled row: over
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "upload_too_many_rows"
    assert f"工作表「填报」超过 {limit} 行" in refused.json()["detail"]
    nothing_written_and_still_answering(education)


def test_a_value_past_the_column_bound_is_refused(education):
    far = b'<row r="3"><c r="KZ3" t="inlineStr"><is><t>x</t></is></c></row>'  # column 312
    refused = post(education, workbook(lambda put: put(far)))
    assert refused.status_code == 422 and refused.json()["code"] == "upload_too_many_columns"
    assert "第 3 行在第 200 列之后还有内容" in refused.json()["detail"]
    nothing_written_and_still_answering(education)


def test_a_csv_of_blank_lines_past_the_row_bound_is_refused(education):
    limit = education.app.state.upload_guard.limits.max_rows
    content = b"indicator,org_unit,period,value\n" + b",,,\n" * limit
    refused = post(education, content, name="rows.csv")
    assert refused.status_code == 422 and refused.json()["code"] == "upload_too_many_rows"
    nothing_written_and_still_answering(education)


def test_json_nested_deeper_than_the_parser_goes_is_invalid_json_not_a_server_error(education):
    refused = post(education, b"[" * 200_000, name="rows.json")
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_json"
    nothing_written_and_still_answering(education)


def test_a_parse_past_its_time_is_stopped_and_its_process_gone(education):
    guard = education.app.state.upload_guard
    # A bound no parse of 15 000 rows meets: the child is killed when it passes, whatever it was doing.
    education.app.state.upload_guard = UploadGuard(dataclasses.replace(guard.limits, parse_seconds=0.05), 2)
    refused = post(education, workbook(numbered_rows(15_000)))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "upload_parse_timeout" and "0.05 秒内未能读完" in refused.json()["detail"]
    assert not [child for child in multiprocessing.active_children() if child.name == "upload-parse"]
    education.app.state.upload_guard = guard
    nothing_written_and_still_answering(education)


def test_the_limits_are_the_settings(education):
    settings = education.app.state.settings
    assert education.app.state.upload_guard.limits == UploadLimits.from_settings(settings)


# ---- as deployed: a uvicorn process, its parses in the forkserver's children ----------------------------


def test_a_service_process_refuses_the_bomb_and_the_laughs_and_saves_the_next_workbook(
    make_database, zip_bomb, tmp_path
):
    service = ServiceProcess.campaign(
        "education",
        port=free_port(),
        database_url=make_database("education"),
        bootstrap_servers="127.0.0.1:1",  # no broker: events stay in the outbox
        log_dir=tmp_path,
    )
    try:
        service.start().wait_ready(timeout=90)
        with httpx.Client(base_url=service.url, timeout=60, trust_env=False) as client:
            bomb = post(client, zip_bomb)
            assert bomb.status_code == 413 and bomb.json()["code"] == "upload_too_large_unpacked"
            laughs = LAUGHS + base_parts()[SHEET].replace(b"<t>T002-1</t>", b"<t>&lol9;</t>")
            laughing = post(client, workbook(parts={SHEET: laughs}))
            assert laughing.status_code == 422 and laughing.json()["code"] == "upload_xml_entities"
            assert client.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0
            for _ in range(3):  # each parsed in a child of its own
                normal = post(client, workbook())
                assert normal.status_code == 201, normal.text
            assert client.get("/api/v1/reports", headers=VIEWER).json()["count"] == 1  # revised twice
            assert client.get("/healthz").status_code == 200
    finally:
        service.stop()
