"""DHIS2-style data value sets: the rows as DHIS2 users write them (dataElement / period / orgUnit / value /
comment), and the import summary in DHIS2's shape (status, importCount, conflicts), with our per-campaign part."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

CSV_COLUMNS = ("dataElement", "period", "orgUnit", "value", "comment")
CSV_MEDIA_TYPES = ("text/csv", "application/csv", "text/plain")
# The codes the catalog has are the only ids we have (indicator codes, 6-digit org unit codes), so DHIS2's `uid`
# names the same thing here; any other scheme (name, attribute:…) we cannot resolve.
ID_SCHEMES = ("code", "uid")
MAX_GROUP_ROWS = 5000  # a service's bulk write (one transaction) takes at most this many rows
MAX_ROWS = 5 * MAX_GROUP_ROWS


IMPORT_STRATEGY = "CREATE_AND_UPDATE"  # the only one: the services have no withdrawal of a reported value


class ImportStatus(str, enum.Enum):
    success = "SUCCESS"
    warning = "WARNING"
    error = "ERROR"


class DataValue(BaseModel):
    """One row as DHIS2 writes it; `value` is checked by us (a string that is not a number is a conflict)."""

    model_config = ConfigDict(extra="ignore")  # DHIS2 clients send more (categoryOptionCombo, storedBy…)

    dataElement: str = Field(max_length=40, description="指标编号（idScheme=code），如 T002-1")
    period: str = Field(max_length=20, description="期间：月 2022-06（或 DHIS2 的 202206）、季 2022Q2、年 2022")
    orgUnit: str = Field(max_length=40, description="单位代码，如 370303")
    value: float | str | None = Field(default=None, description="数值（数字，或可解析为数字的文本）")
    comment: str = Field(default="", max_length=1000, description="说明（写入填报说明）")


class DataValueSet(BaseModel):
    model_config = ConfigDict(extra="ignore")  # dataSet, completeDate… of a DHIS2 payload are not ours

    dataValues: list[DataValue] = Field(max_length=MAX_ROWS, description="数据值，每行一个指标 × 单位 × 期间")


class ImportCount(BaseModel):
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0


class Conflict(BaseModel):
    object: str = Field(description="出错的对象：指标编号、单位代码、期间或数值")
    value: int = Field(description="出错的行（从 1 起，CSV 不计标题行；JSON 为 dataValues 中的位置）")
    errorCode: str = Field(description="机器可读的错误代码")
    message: str = Field(description="中文说明")


class CampaignImport(BaseModel):
    """One campaign service's part: all of its rows written, or none."""

    campaign: str
    label: str
    rows: int
    status: ImportStatus
    importCount: ImportCount
    message: str


class ImportSummary(BaseModel):
    responseType: str = "ImportSummary"
    status: ImportStatus
    description: str = Field(description="中文说明")
    dryRun: bool
    importCount: ImportCount
    conflicts: list[Conflict]
    campaigns: list[CampaignImport] = Field(description="按行动（服务）分组的结果：每组全部写入或全部不写入")


class DataValueOut(BaseModel):
    dataElement: str
    period: str
    orgUnit: str
    value: float
    comment: str = ""
    campaign: str
    lastUpdated: str = Field(description="最后变更（审核通过）的时间，ISO 8601")
    deleted: bool = False


class DataValueSetOut(BaseModel):
    dataValues: list[DataValueOut]
    deletionsKnown: bool = Field(
        description="平台是否记录已撤回的数据：目前填报没有撤回（删除）操作，includeDeleted 不会返回任何已删除的值"
    )
