"""Report files as bureaus exchange them: CSV (as Excel saves it, UTF-8 or GBK), JSON, and Excel
workbooks (.xlsx: the template of `workbook.py`, or any sheet with the same header).

Columns, in English or Chinese: indicator/指标编号, org_unit/单位代码, period/期间, value/数值,
numerator/分子, denominator/分母, note/说明.  CSV and JSON rows are numbered from 1 (the CSV header is
not counted); Excel rows by the sheet's own row numbers, as Excel shows them, and their errors also
name the column (letter and header).

Every parser here reads a file that `minsheng.uploads.UploadGuard.read` has let through, in the child
process it bounds, with its limits (rows and columns are counted as they are read).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from minsheng.errors import DomainError, Unprocessable, describe_validation_error
from minsheng.reporting.schemas import ReportCreate, RowError
from minsheng.uploads import UNREADABLE_WORKBOOK, UploadLimits, bounded_rows

COLUMN_NAMES = {
    "indicator": "indicator",
    "指标编号": "indicator",
    "指标": "indicator",
    "org_unit": "org_unit",
    "单位代码": "org_unit",
    "单位": "org_unit",
    "period": "period",
    "期间": "period",
    "value": "value",
    "数值": "value",
    "numerator": "numerator",
    "分子": "numerator",
    "denominator": "denominator",
    "分母": "denominator",
    "note": "note",
    "说明": "note",
    "备注": "note",
}
REQUIRED = ("indicator", "org_unit", "period")
INPUTS = ("value", "numerator", "denominator", "note")
MAX_ROWS = 5000
# The sheet of a workbook that holds the rows (the template's); any other workbook: its first sheet.
DATA_SHEET = "填报"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """Where a field is in a workbook: its column letter and header, for errors a clerk can find."""

    letter: str
    header: str


@dataclass
class ParsedUpload:
    rows: list[tuple[int, ReportCreate]]
    errors: list[RowError]
    columns: dict[str, Column] = field(default_factory=dict)  # Excel only: field → column
    sheet: str | None = None  # Excel only: the sheet read


def bad_header(missing: list[str]) -> Unprocessable:
    return Unprocessable(
        f"表头缺少列：{'、'.join(missing or ['value/数值'])}。"
        "表头应为 indicator,org_unit,period,value,numerator,denominator,note"
        "（或 指标编号,单位代码,期间,数值,分子,分母,说明）",
        code="bad_header",
    )


def check_header(columns: list[str | None]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing or "value" not in columns and "numerator" not in columns:
        raise bad_header(missing)


def decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unprocessable("文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV", code="unreadable_file")


def _row_from_mapping(number: int, raw: dict) -> tuple[ReportCreate | None, list[RowError]]:
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    cleaned = {k: v for k, v in cleaned.items() if v not in ("", None) or k in REQUIRED}
    try:
        return ReportCreate.model_validate(cleaned), []
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            described = describe_validation_error({**error, "loc": ("body", *error["loc"])})
            errors.append(
                RowError(
                    row=number,
                    field=described["field"] or "row",
                    code="invalid_field",
                    message=described["message"].replace("请求体", ""),
                )
            )
        return None, errors


def parse_csv(content: bytes, limits: UploadLimits) -> tuple[list[tuple[int, ReportCreate]], list[RowError]]:
    reader = bounded_rows(csv.reader(io.StringIO(decode(content))), limits, "CSV 文件")
    header = next(reader, None)
    if not header:
        raise Unprocessable("文件是空的", code="empty_file")
    columns = [COLUMN_NAMES.get(h.strip()) for h in header]
    check_header(columns)
    rows, errors = [], []
    for number, values in enumerate(reader, start=1):
        if not any(v.strip() for v in values):
            continue
        if number > MAX_ROWS:
            raise Unprocessable(f"一次最多上传 {MAX_ROWS} 行", code="too_many_rows")
        raw = {column: value for column, value in zip(columns, values, strict=False) if column}
        row, row_errors = _row_from_mapping(number, raw)
        errors += row_errors
        if row:
            rows.append((number, row))
    return rows, errors


def parse_json(content: bytes) -> tuple[list[tuple[int, ReportCreate]], list[RowError]]:
    try:
        data = json.loads(decode(content))
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"JSON 格式错误（第{exc.lineno}行）：{exc.msg}", code="invalid_json") from exc
    except RecursionError as exc:  # [[[[…: deeper than the parser goes
        raise Unprocessable('JSON 嵌套层数过多：应为报告数组，或 {"rows": [...]}', code="invalid_json") from exc
    if isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list) or not data:
        raise Unprocessable('JSON 应为报告数组，或 {"rows": [...]}', code="invalid_json")
    if len(data) > MAX_ROWS:
        raise Unprocessable(f"一次最多上传 {MAX_ROWS} 行", code="too_many_rows")
    rows, errors = [], []
    for number, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            errors.append(RowError(row=number, field="row", code="invalid_field", message="每一行应是一个对象"))
            continue
        row, row_errors = _row_from_mapping(number, raw)
        errors += row_errors
        if row:
            rows.append((number, row))
    return rows, errors


def data_sheet(workbook: openpyxl.Workbook) -> Worksheet:
    return workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]


def load_workbook(content: bytes, *, read_only: bool = False) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=read_only)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file fails in many ways; all are the clerk's 422
        raise Unprocessable(UNREADABLE_WORKBOOK, code="unreadable_file") from exc


def _cell(field_name: str, value: object) -> object:
    """A cell as the report field reads it: codes and periods as text, numbers as numbers."""
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, dt.datetime | dt.date):
        # Excel turns a typed 2024-05 into a date: it meant the month.
        return f"{value:%Y-%m}"
    if field_name in ("value", "numerator", "denominator"):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if field_name == "org_unit":
        # The template's drop-down offers "370302 淄川区": the code is what counts.
        text = text.split()[0]
    return text


def parse_xlsx(content: bytes, limits: UploadLimits) -> ParsedUpload:
    # Read-only: the sheet is streamed row by row (bounded as it comes) instead of built whole in memory.
    workbook = load_workbook(content, read_only=True)
    try:
        sheet = data_sheet(workbook)
        # The size the file states may be wrong (some writers say A1): read each row as far as it goes.
        sheet.reset_dimensions()
        return _parse_sheet(sheet, limits)
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - streamed: a damaged part fails while its rows are read
        raise Unprocessable(UNREADABLE_WORKBOOK, code="unreadable_file") from exc
    finally:
        workbook.close()


def _parse_sheet(sheet: Worksheet, limits: UploadLimits) -> ParsedUpload:
    rows_iter = bounded_rows(sheet.iter_rows(values_only=True), limits, f"工作表「{sheet.title}」")
    header = next(rows_iter, None)
    if not header or not any(h is not None for h in header):
        raise Unprocessable(f"工作表「{sheet.title}」是空的：第1行应为表头", code="empty_file")
    names = [COLUMN_NAMES.get(str(h).strip()) if h is not None else None for h in header]
    check_header(names)
    columns = _header_columns(header, names)
    rows, errors, counted = [], [], 0
    for number, values in enumerate(rows_iter, start=2):
        raw = _entered_row(names, values)
        if raw is None:
            continue
        counted += 1
        if counted > MAX_ROWS:
            raise Unprocessable(f"一次最多上传 {MAX_ROWS} 行", code="too_many_rows")
        row, row_errors = _row_from_mapping(number, raw)
        errors += row_errors
        if row:
            rows.append((number, row))
    if not rows and not errors:
        raise Unprocessable(
            f"工作表「{sheet.title}」没有填写任何指标：请在数值（或分子、分母）列填写后再上传", code="no_rows"
        )
    return ParsedUpload(rows=rows, errors=errors, columns=columns, sheet=sheet.title)


def _header_columns(header: tuple[object, ...], names: list[str | None]) -> dict[str, Column]:
    """Where each field is: the first column whose header names it."""
    columns = {}
    for index, name in enumerate(names, start=1):
        if name and name not in columns:
            columns[name] = Column(letter=get_column_letter(index), header=str(header[index - 1]).strip())
    return columns


def _entered_row(names: list[str | None], values: tuple[object, ...]) -> dict[str, object] | None:
    """A row's fields as the report reads them; None when nothing is entered in it."""
    raw: dict[str, object] = {}
    for name, value in zip(names, values, strict=False):
        if name and name not in raw:  # a repeated header: the first column counts, as `_header_columns` says
            raw[name] = _cell(name, value)
    # The template lists every indicator of the scope: a row with nothing entered is not reported.
    if all(raw.get(name) is None for name in INPUTS):
        return None
    for name in REQUIRED:  # an empty code is named by the rules, as a CSV's empty field is
        raw[name] = raw.get(name) or ""
    return raw


def parse_upload(filename: str, content: bytes, limits: UploadLimits) -> ParsedUpload:
    """Run it with `UploadGuard.read(filename, content, parse_upload)`, which checks and bounds it."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return parse_xlsx(content, limits)
    if name.endswith(".csv"):
        return ParsedUpload(*parse_csv(content, limits))
    if name.endswith(".json"):
        return ParsedUpload(*parse_json(content))  # its rows are counted at once: MAX_ROWS
    raise Unprocessable("只支持 .xlsx、.csv 和 .json 文件（.xls 请在 Excel 中另存为 .xlsx）", code="unsupported_file")
