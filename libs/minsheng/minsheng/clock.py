"""Today's date, as the city office sees it (Beijing time). Replaceable per app for tests."""

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

CHINA = ZoneInfo("Asia/Shanghai")


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already (what the platform stores)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


async def get_today(request: Request) -> dt.date:  # async: no thread hand-off for a clock read
    return getattr(request.app.state, "clock", today_in_china)()


TodayDep = Annotated[dt.date, Depends(get_today)]
