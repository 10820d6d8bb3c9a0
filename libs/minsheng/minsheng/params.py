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
