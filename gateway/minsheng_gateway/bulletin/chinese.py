"""Dates and numbers written the way an official Chinese document writes them."""

from __future__ import annotations

import datetime as dt

_DIGITS = "〇一二三四五六七八九"


def chinese_count(n: int) -> str:
    """1–99 in characters: 五, 十二, 三十一."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else _DIGITS[tens]}十{_DIGITS[ones] if ones else ''}"


def chinese_year(year: int) -> str:
    return "".join(_DIGITS[int(d)] for d in str(year)) + "年"


def chinese_month(year: int, month: int) -> str:
    """二〇二四年五月."""
    return f"{chinese_year(year)}{chinese_count(month)}月"


def chinese_date(day: dt.date) -> str:
    """二〇二四年五月三十一日."""
    return f"{chinese_month(day.year, day.month)}{chinese_count(day.day)}日"


def amount(value: float | None) -> str:
    """1.2万, 3.5亿, 670, 4.36; "—" when there is none."""
    if value is None:
        return "—"
    for size, suffix in ((1e8, "亿"), (1e4, "万")):
        if abs(value) >= size:
            return f"{_trim(value / size, 2)}{suffix}"
    return _trim(value, 2)


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0.853) as 85.3%."""
    return "—" if share is None else f"{_trim(share * 100, digits)}%"


def _trim(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
