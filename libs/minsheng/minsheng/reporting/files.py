"""Report files as bureaus exchange them: CSV (as Excel saves it, UTF-8 or GBK) and JSON.

Columns, in English or Chinese: indicator/指标编号, org_unit/单位代码, period/期间, value/数值,
numerator/分子, denominator/分母, note/说明.  Rows are numbered from 1 (the CSV header is not counted).
"""

from __future__ import annotations

import csv
import io
import json

from pydantic import ValidationError

from minsheng.errors import Unprocessable, describe_validation_error
from minsheng.reporting.schemas import ReportCreate, RowError

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
MAX_ROWS = 5000


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


def parse_csv(content: bytes) -> tuple[list[tuple[int, ReportCreate]], list[RowError]]:
    reader = csv.reader(io.StringIO(decode(content)))
    header = next(reader, None)
    if not header:
        raise Unprocessable("文件是空的", code="empty_file")
    columns = [COLUMN_NAMES.get(h.strip()) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing or "value" not in columns and "numerator" not in columns:
        raise Unprocessable(
            f"表头缺少列：{'、'.join(missing or ['value/数值'])}。"
            "表头应为 indicator,org_unit,period,value,numerator,denominator,note"
            "（或 指标编号,单位代码,期间,数值,分子,分母,说明）",
            code="bad_header",
        )
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


def parse_upload(filename: str, content: bytes) -> tuple[list[tuple[int, ReportCreate]], list[RowError]]:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return parse_csv(content)
    if name.endswith(".json"):
        return parse_json(content)
    raise Unprocessable("只支持 .csv 和 .json 文件（Excel 请另存为 CSV）", code="unsupported_file")
