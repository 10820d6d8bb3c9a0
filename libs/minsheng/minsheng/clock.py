"""Today's date, as the city office sees it (Beijing time). Replaceable per app for tests."""

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


async def get_today(request: Request) -> dt.date:  # async: no thread hand-off for a clock read
    return getattr(request.app.state, "clock", today_in_china)()


TodayDep = Annotated[dt.date, Depends(get_today)]
