"""List responses: `{"data": [...], "count": N}` with `limit` / `offset`."""

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from minsheng.params import MAX_ROW_ID

T = TypeVar("T")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int  # all rows matching the filters, not just this page


class PageParams(BaseModel):
    limit: int
    offset: int


async def _page_params(  # async: no thread hand-off for two numbers
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数（1–500）")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="跳过的条数")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(_page_params)]
