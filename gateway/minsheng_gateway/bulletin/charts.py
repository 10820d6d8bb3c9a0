"""The bulletin's charts as PNG images (matplotlib's Agg canvas, no GUI, safe in a server thread).

Chinese labels need a CJK font: the first Noto Sans CJK (fonts-noto-cjk) or other CJK font matplotlib's
font manager finds. Without one the charts are drawn with codes instead of Chinese words, so that no
label turns into empty boxes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STATUS_COLOURS = {
    "completed": "#2e7d32",
    "on_track": "#67c23a",
    "at_risk": "#e6a23c",
    "behind": "#f56c6c",
    "no_data": "#b0b3b8",
    "no_target": "#dcdfe6",
}
_PREFERRED = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei")


def cjk_font() -> str | None:
    """The name of a font with Chinese glyphs installed on this machine, or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in _PREFERRED:
        if name in names:
            return name
    return next((n for n in sorted(names) if "CJK" in n or "Hei" in n or "Song" in n), None)


def short_name(campaign: str) -> str:
    """实施教育优质均衡三年攻坚行动 → 教育优质均衡: the axis has room for the words that differ."""
    return campaign.removeprefix("实施").removesuffix("三年攻坚行动").removesuffix("攻坚行动")


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()


def _figure(font: str | None) -> Figure:
    figure = Figure(figsize=(7.2, 3.6))
    if font:
        figure.set_layout_engine("tight")
    return figure


def status_chart(
    rows: Sequence[tuple[str, str, Mapping[str, int]]], labels: Mapping[str, str], *, font: str | None
) -> bytes:
    """Stacked bars: per campaign (code, name, counts by status), its indicators by status."""
    figure = _figure(font)
    axes = figure.add_subplot()
    names = [short_name(name) if font else code for code, name, _ in rows]
    left = [0] * len(rows)
    for status, colour in STATUS_COLOURS.items():
        counts = [counts.get(status, 0) for _, _, counts in rows]
        if not any(counts):
            continue
        axes.barh(names, counts, left=left, color=colour, label=labels[status] if font else status)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel("指标数" if font else "indicators", fontfamily=font)
    for label in axes.get_yticklabels():
        label.set_fontfamily(font)
    axes.legend(
        prop={"family": font, "size": 8} if font else {"size": 8},
        ncols=6,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    return _png(figure)


def score_chart(rows: Sequence[tuple[str, str, float | None]], *, font: str | None) -> bytes:
    """Bars: each district's overall score (code, name, score), highest first."""
    figure = _figure(font)
    axes = figure.add_subplot()
    names = [name if font else code for code, name, _ in rows]
    scores = [score or 0 for _, _, score in rows]
    bars = axes.bar(names, scores, color="#409eff")
    axes.bar_label(bars, labels=[f"{s:.1f}" for s in scores], fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel("得分" if font else "score", fontfamily=font)
    for label in axes.get_xticklabels():
        label.set_fontfamily(font)
        label.set_rotation(30)
    return _png(figure)
