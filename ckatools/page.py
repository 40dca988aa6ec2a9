"""Outputs sized for the book's page: figures saved with a record of their smallest font, checked
against the text column (tools/check_html.py), and tables shown whole.

In IPython, :func:`ckatools.book.setup` makes every figure a notebook shows a PNG
at :data:`DPI` whose text chunks record that dpi and the smallest font it draws, in points.
"""

from __future__ import annotations

import math
import struct
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

DPI = 100  # pixels per inch of every saved figure, in CSS px on the page
RESOLUTION = 2  # a notebook's figures carry this many image pixels per CSS px (sharp on zoom)
# The text column of a chapter (sphinx-book-theme, article.bd-article less its padding), in CSS px,
# measured in headless Chromium: 736 in an 800 px wide window, 784 in a 1400 px one.
COLUMN_PX = 736
WIDTH = 7.0  # inches: the widest figure, COLUMN_PX at DPI less bbox_inches="tight"'s padding
COLUMN_CHARS = 88  # characters of printed (monospace) output that fit the column at 800 px
MIN_PT = 8.0  # the smallest font a reader is asked to read, in points on the page (96 px/inch)
DPI_KEY, FONT_KEY = "ckatools:dpi", "ckatools:smallest-font-pt"  # the PNG tEXt keywords
HEATMAP_KEY = "ckatools:narrowest-heatmap-in"  # the narrowest heatmap panel, in inches
HEATMAP_GID = "ckatools-heatmap"  # the gid ckatools.plot.heatmap gives the axes it draws on
NO_TEXT = "none"  # FONT_KEY's (and HEATMAP_KEY's) value for a figure without any
# A heatmap panel narrower than this on the page (CSS px) is too small to see a block in: five
# panels of a series on one row of the 736 px column at 800 px are about 140 px, which readers
# found too small; 170 px lets a series of four sit on one row and five on two.
MIN_HEATMAP_PX = 170


def fit(text: str, width: int = COLUMN_CHARS) -> str:
    """``text`` with every line longer than ``width`` wrapped, its continuation indented four
    spaces past the line's own indentation: printed output that needs no horizontal scroll."""
    lines = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip()))
        lines.append(
            textwrap.fill(line, width, subsequent_indent=indent + "    ", break_on_hyphens=False)
            if len(line) > width
            else line
        )
    return "\n".join(lines)


def readable(
    frame: pd.DataFrame, digits: int = 2, signed: Sequence[str] = ("rho",)
) -> pd.DataFrame:
    """A table as a reader needs it: each ``X_low``/``X_high`` pair of columns joined into one
    "X 95 % interval" column reading [low, high], floats to ``digits`` decimals (with their sign
    in the ``signed`` columns), NaN as "n/a", underscores in column names as spaces. For display
    only: every cell becomes text."""
    import pandas as pd

    def number(value: float, sign: str = "") -> str:
        return f"{value:{sign}.{digits}f}" if math.isfinite(value) else "n/a"

    out = frame.copy()
    for low in [c for c in out.columns if str(c).endswith("_low")]:
        stem = str(low)[: -len("_low")]
        high = f"{stem}_high"
        if high in out.columns:
            joined = [
                f"[{number(a, '+')}, {number(b, '+')}]" if math.isfinite(a + b) else "n/a"
                for a, b in zip(out[low], out[high])
            ]
            out.insert(out.columns.get_loc(low), f"{stem} 95 % interval", joined)
            out = out.drop(columns=[low, high])
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [number(v, "+" if column in signed else "") for v in out[column]]
    return out.rename(columns=lambda c: str(c).replace("_", " "))


def signed(value: float, digits: int = 3, missing: str = "n/a") -> str:
    """``value`` with its sign and ``digits`` decimals, or ``missing`` when it is not a number:
    an undefined quantity reads as a word, never as "+nan"."""
    if not math.isfinite(value):
        return missing
    return f"{value if round(value, digits) else 0.0:+.{digits}f}"  # no "-0.000"


def smallest_font(fig: Figure) -> float | None:
    """The smallest font size (points) of the visible, non-empty text a figure draws: titles, tick
    and axis labels, colour bars, legends, annotations. None for a figure without text."""
    from matplotlib.axes import Axes
    from matplotlib.text import Text

    fig.draw_without_rendering()  # tick labels exist once the figure is laid out

    def sizes(artist):
        if not artist.get_visible():
            return
        if isinstance(artist, Text) and artist.get_text().strip():
            yield artist.get_fontsize()
        hidden = ()
        if isinstance(artist, Axes) and not artist.axison:  # axis("off"): no ticks or labels
            hidden = (artist.xaxis, artist.yaxis, *artist.spines.values())
        for child in artist.get_children():
            if child not in hidden:
                yield from sizes(child)

    return min(sizes(fig), default=None)


def narrowest_heatmap(fig: Figure) -> float | None:
    """The width in inches of the narrowest visible heatmap panel, as laid out (the axes
    :func:`ckatools.plot.heatmap` draws on carry :data:`HEATMAP_GID`; photographs and tables of
    scores are not heatmaps). None for a figure without one."""
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_gid() == HEATMAP_GID]
    if not panels:
        return None
    fig.draw_without_rendering()  # a layout engine places the axes when the figure is drawn
    return min(ax.get_position().width * fig.get_figwidth() for ax in panels)


def record(fig: Figure, dpi: float = DPI) -> dict[str, str]:
    """The PNG metadata of a figure saved at ``dpi``: that dpi, its smallest font and its
    narrowest heatmap panel."""
    font, panel = smallest_font(fig), narrowest_heatmap(fig)
    return {
        DPI_KEY: f"{dpi:g}",
        FONT_KEY: NO_TEXT if font is None else f"{font:g}",
        HEATMAP_KEY: NO_TEXT if panel is None else f"{panel:.3f}",
    }


def save(fig: Figure, path: str | Path, dpi: float = DPI) -> None:
    """Save a figure as a PNG with its font record (for figures made outside a notebook)."""
    fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight", metadata=record(fig, dpi))


def figure_png(fig: Figure) -> tuple[str, dict] | None:
    """IPython's PNG of a figure (base64), cropped to its content, with its font record, and its
    display width: rendered at RESOLUTION x DPI and shown at the width DPI gives (the
    ``width`` metadata that Jupyter and the book's HTML honour), so it stays sharp when a
    reader zooms or opens the full-size image. None for an empty figure."""
    import base64

    from IPython.core.pylabtools import print_figure

    dpi = DPI * RESOLUTION
    data = print_figure(fig, "png", base64=True, dpi=dpi, metadata=record(fig, dpi))
    if data is None:
        return None
    width = png_text(base64.b64decode(data))[0]
    return data, {"width": round(width / RESOLUTION)}


def png_text(data: bytes) -> tuple[int, dict[str, str]]:
    """A PNG's width in pixels (IHDR) and its tEXt chunks (what matplotlib writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, texts, at = 0, {}, 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            width = struct.unpack(">I", body[:4])[0]
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
    return width, texts


def shown_font_pt(data: bytes, shown_px: float) -> float | None:
    """The smallest font of a recorded figure (PNG bytes) shown ``shown_px`` CSS px wide, in
    points on the page; None for a figure without text. KeyError without a record."""
    width, texts = png_text(data)
    dpi, font = float(texts[DPI_KEY]), texts[FONT_KEY]
    if font == NO_TEXT:
        return None
    return float(font) * dpi / 96 * shown_px / width  # CSS: 96 px to the inch, 72 pt


def shown_heatmap_px(data: bytes, shown_px: float) -> float | None:
    """The narrowest heatmap panel of a recorded figure (PNG bytes) shown ``shown_px`` CSS px
    wide, in CSS px on the page; None for a figure without one, or recorded before panels were
    (their figures are checked for fonts only)."""
    width, texts = png_text(data)
    panel = texts.get(HEATMAP_KEY, NO_TEXT)
    if panel == NO_TEXT:
        return None
    return float(panel) * float(texts[DPI_KEY]) * shown_px / width


def legibility(data: bytes, shown_px: float) -> str | None:
    """What keeps a figure (PNG bytes) shown ``shown_px`` CSS px wide from being read: its
    smallest font below MIN_PT on the page, a heatmap panel narrower than MIN_HEATMAP_PX, or no
    font record. None when it is legible."""
    try:
        font = shown_font_pt(data, shown_px)
    except (KeyError, ValueError):
        return "no font record"
    shown = lambda: f"{png_text(data)[0]} px shown at {shown_px:.0f}"  # for a problem only
    if font is not None and font < MIN_PT - 0.005:
        return f"smallest font {font:.1f} pt (under {MIN_PT:g}): {shown()}"
    panel = shown_heatmap_px(data, shown_px)
    if panel is not None and panel < MIN_HEATMAP_PX - 0.5:
        return f"a heatmap {panel:.0f} px wide (under {MIN_HEATMAP_PX}): {shown()}"
    return None
