"""The factor that turns numerator ÷ denominator into the figure the plan writes.

A rate is stored as its parts so that it rolls up correctly (DHIS2's indicator formula
numerator ÷ denominator × factor):

- unit "%"                               → × 100   (参保率 95%)
- name mentions 每千人 / 千人            → × 1000  (每千人拥有婴幼儿托位数)
- name mentions 万人                     → × 10000 (万人拥有绿道长度)
- anything else (人均…, 平方米, 万元 …)  → × 1

The brief was silent on per-mille: a unit "‰" is treated like "%" but with 1000, since its
meaning is unambiguous.  No catalog uses it today.
"""

from __future__ import annotations


def ratio_scale(unit: str, name: str) -> float:
    unit = (unit or "").strip()
    name = name or ""
    if unit == "%":
        return 100.0
    if unit == "‰":
        return 1000.0
    # "每千人" contains "千人", so one test covers both spellings.
    if "千人" in name:
        return 1000.0
    if "万人" in name:
        return 10000.0
    return 1.0
