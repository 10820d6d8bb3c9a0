"""Outlier checks on a series: the modified z-score (Iglewicz and Hoaglin: 0.6745·(x − median)/MAD) and min–max
bounds.  Pure functions: the caller reads the points (the org unit's own history, or the other districts' values for
the same period) and says which is which.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_POINTS = 5  # fewer and a median and MAD say nothing: no score, and the answer says so
DEFAULT_THRESHOLD = 3.5
MAD_SCALE = 0.6745


@dataclass(frozen=True)
class Score:
    """A value's modified z-score against its reference points, or why there is none (`reason`)."""

    value: float
    points: int
    median: float | None = None
    mad: float | None = None
    score: float | None = None
    threshold: float = DEFAULT_THRESHOLD
    reason: str | None = None  # why no score: too few points, or every point the same

    @property
    def outlier(self) -> bool:
        return self.score is not None and abs(self.score) > self.threshold

    def explanation(self, against: str) -> str:
        if self.score is None:
            return f"{against}：{self.reason}"
        verdict = "异常" if self.outlier else "正常"
        return (
            f"{against}：中位数 {self.median:g}，绝对中位差 {self.mad:g}，修正 z 分数 {self.score:.2f}"
            f"（阈值 {self.threshold:g}），{verdict}"
        )


def modified_z_score(value: float, points: Sequence[float], *, threshold: float = DEFAULT_THRESHOLD) -> Score:
    """`value` against `points` (which should not include it).  Fewer than `MIN_POINTS` points, or a MAD of zero
    (most points equal), gives no score: said, not guessed."""
    n = len(points)
    if n < MIN_POINTS:
        return Score(
            value=value,
            points=n,
            threshold=threshold,
            reason=f"可比数据只有 {n} 个（少于 {MIN_POINTS} 个），不计算分数",
        )
    median = statistics.median(points)
    mad = statistics.median(abs(p - median) for p in points)
    if mad == 0:
        return Score(
            value=value,
            points=n,
            median=median,
            mad=0.0,
            threshold=threshold,
            reason=f"可比数据大多相同（中位数 {median:g}，绝对中位差为 0），不计算分数",
        )
    return Score(
        value=value,
        points=n,
        median=median,
        mad=mad,
        score=MAD_SCALE * (value - median) / mad,
        threshold=threshold,
    )


def outside_bounds(value: float, minimum: float | None, maximum: float | None) -> str | None:
    """Why `value` is outside the office's bounds for its indicator and org unit, or None."""
    if minimum is not None and value < minimum:
        return f"低于下限 {minimum:g}（填写的是 {value:g}）"
    if maximum is not None and value > maximum:
        return f"高于上限 {maximum:g}（填写的是 {value:g}）"
    return None
