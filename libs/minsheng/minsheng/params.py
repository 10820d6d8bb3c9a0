"""Numbers that arrive in paths, queries and bodies, bounded as the database stores them: every id and
number is a PostgreSQL `integer`, so a larger one is refused as bad input (422) instead of failing in
the database, and the bound is in the OpenAPI documents for generated clients."""

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ROW_ID = 2**31 - 1

ReportId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="报告编号")]
TaskNumber = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="任务编号（1–113）")]
AccountId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="账号编号")]
ApiKeyId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="密钥编号")]
TaskNumberQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="任务编号（1–113）")]
# In a request body: the id of a row.
RowIdField = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

# Codes, in the form the catalog and the period calendar accept: anything else names nothing, so it is
# refused as bad input (422) before a look-up, and generated clients can check it first.
ORG_UNIT_CODE = r"^\d{6}$"
INDICATOR_CODE = r"^(T\d{3}-\d{1,2}|H-[A-Z]{3}-\d{1,2})$"
PERIOD_CODE = r"^\d{4}(-(0[1-9]|1[0-2])|Q[1-4])?$"

OrgUnitPath = Annotated[str, Path(pattern=ORG_UNIT_CODE, description="单位代码（6 位数字），如 370303（张店区）")]
OrgUnitQuery = Annotated[str, Query(pattern=ORG_UNIT_CODE, description="单位代码（6 位数字），如 370300（全市）")]
OrgUnitFilter = Annotated[str | None, Query(pattern=ORG_UNIT_CODE, description="单位代码（6 位数字），如 370303")]
IndicatorPath = Annotated[str, Path(pattern=INDICATOR_CODE, description="指标编号，如 T002-1")]
IndicatorFilter = Annotated[str | None, Query(pattern=INDICATOR_CODE, description="指标编号，如 T002-1")]
# A period is checked by the reporting calendar, which says what is wrong with it (「月份应为 01–12」): the
# pattern is for the documents only.
_PERIOD = {"description": "期间：月 2024-05，季 2024Q2，年 2024", "json_schema_extra": {"pattern": PERIOD_CODE}}
PeriodPath = Annotated[str, Path(**_PERIOD)]
PeriodQuery = Annotated[str, Query(**_PERIOD)]
PeriodFilter = Annotated[str | None, Query(**_PERIOD)]
