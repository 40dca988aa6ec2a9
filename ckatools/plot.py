"""Figures in the paper's style, and sliders that work both live (Colab) and in the static book."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from html import escape
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.axis import Axis
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from ckatools import page

__all__ = [
    "wrap_text",
    "grid_shape",
    "image_grid",
    "heatmap",
    "heatmap_grid",
    "outline",
    "slider",
    "stage_starts",
    "layer_ticks",
    "plain_log_ticks",
]

CMAP = "magma"
STAGE_LINE = "#3b8fd9"  # stage boundaries: visible on both ends of the colour map
# Figures are at most page.WIDTH inches wide, saved at page.DPI, so the page shows them unshrunk.
TEXT = 9  # points: panel titles and tick labels of multi-panel figures
LEGEND = 8  # points: legends, the smallest text of any figure (page.MIN_PT)
TICKS = 0.3  # inches below a heatmap panel for its tick labels
MAX_COLS = 3  # heatmaps to a row: a panel about 2 in wide holds a run's two-line title at TEXT


def layer_ticks(*axes: Axis) -> None:
    """Whole-number ticks on each given axis (``ax.xaxis``, ``ax.yaxis``): layers are counted."""
    for axis in axes:
        axis.set_major_locator(MaxNLocator("auto", integer=True))


def plain_log_ticks(*axes: Axis) -> None:
    """On each given log-scaled axis, ticks at 1, 2 and 5 times the powers of ten, labelled as
    plain numbers (0.2, 5, 10), and unlabelled minor ticks: no crowd of 2x10^0, 3x10^0 ..."""
    for axis in axes:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())


def _text_width(text: str, fontsize: float) -> float:
    """Width in inches of one line of text drawn at ``fontsize`` points."""
    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(size=fontsize), ismath=False
    )
    return width / 72


def wrap_text(text: str, width: float, fontsize: float) -> str:
    """``text`` with each line broken to fit ``width`` inches at ``fontsize``: after a comma or a
    colon where it can ('ResNet-8 ×0.25,' / 'all data'), else between words."""
    lines = []
    for line in text.split("\n"):
        current = ""
        for piece in re.split(r"(?<=[,:]) ", line):
            for word in [piece] if _text_width(piece, fontsize) <= width else piece.split(" "):
                joined = f"{current} {word}" if current else word
                if current and _text_width(joined, fontsize) > width:
                    lines.append(current)
                    joined = word
                current = joined
        lines.append(current)
    return "\n".join(lines)


def grid_shape(n: int, most: int) -> tuple[int, int]:
    """``n`` panels on rows of at most ``most``, evenly (5 -> 3 + 2): (rows, panels per row)."""
    rows = -(-n // most)
    return rows, -(-n // rows)


def stage_starts(layers) -> list[int]:
    """Index of the first representation of each stage (where a boundary line is drawn)."""
    starts, seen = [], set()
    for i, layer in enumerate(layers):
        if layer.stage is not None and layer.stage not in seen:
            seen.add(layer.stage)
            starts.append(i)
    return starts


BLOCK_LINE = "#7fe0ff"  # the measured block's outline: light, and not a colour of the map


def outline(ax, block) -> None:
    """Draw what the block measure decided onto a heatmap: the block's square as a dashed
    outline, or "no block" in the corner. ``block`` is a
    :class:`~ckatools.analysis.blocks.Block` (anything with ``present``, ``start``, ``end``)."""
    from matplotlib.patches import Rectangle

    if block.present:
        size = block.end - block.start + 1
        corner = (block.start - 0.5, block.start - 0.5)
        square = Rectangle(corner, size, size, fill=False, ec=BLOCK_LINE, lw=1.2, ls="--")
        ax.add_patch(square)
    else:
        ax.text(
            0.04,
            0.96,
            "no block",
            transform=ax.transAxes,
            ha="left",
            va="top",
            color="white",
            fontsize=LEGEND,
        )


def heatmap(
    result,
    ax=None,
    *,
    title: str | None = None,
    colorbar: bool = True,
    stages: bool = True,
    block=None,
):
    """CKA heatmap: input at the origin, layers of A up the y axis and of B along x, colours fixed
    to 0..1.

    ``result`` is a :class:`~ckatools.capture.CKAResult` (stage boundaries are drawn from its
    representation lists) or a bare square matrix. ``block``: the measured block, outlined on
    the map (:func:`outline`); None draws none.
    """
    matrix = np.asarray(getattr(result, "matrix", result), dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.4))
    image = ax.imshow(
        matrix,
        origin="lower",
        cmap=CMAP,
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
        aspect="auto",
    )
    ax.set_gid(page.HEATMAP_GID)  # what page.narrowest_heatmap measures
    if stages and hasattr(result, "layers_a"):
        for start in stage_starts(result.layers_a)[1:]:
            ax.axhline(start - 0.5, color=STAGE_LINE, lw=0.7, ls=":")
        for start in stage_starts(result.layers_b)[1:]:
            ax.axvline(start - 0.5, color=STAGE_LINE, lw=0.7, ls=":")
    layer_ticks(ax.xaxis, ax.yaxis)
    ax.tick_params(labelsize=TEXT)
    ax.set_xlabel("layer" if matrix.shape[0] == matrix.shape[1] else "layer (model B)")
    ax.set_ylabel("layer" if matrix.shape[0] == matrix.shape[1] else "layer (model A)")
    if block is not None:
        outline(ax, block)
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="CKA")
    return ax


def heatmap_grid(
    results: Sequence,
    titles: Sequence[str],
    ncols: int | None = None,
    size: float = 2.6,
    fig=None,
    row_labels: Sequence[str] | None = None,
    blocks: Sequence | None = None,
):
    """Several heatmaps in a grid with one shared colour bar (as the paper's multi-panel figures).

    The grid has rows of ``ncols`` panels (all in one row by default); a row longer than MAX_COLS
    is wrapped onto several, evenly. Panels are ``size`` inches, or less so that the figure fits
    the page, and titles are broken onto more lines where they are wider than their panel.
    Draws into ``fig`` when given (a slider frame), else into a new figure. ``row_labels`` name
    the rows on the left (e.g. the fraction of training data), on each row a wrapped row takes.
    ``blocks``: one measured block (or None) per heatmap, outlined on its panel.
    """
    ncols = ncols or len(results)
    wraps, per_row = grid_shape(ncols, MAX_COLS)  # each row of the grid takes `wraps` rows
    nrows = -(-len(results) // ncols) * wraps
    margin = 0.4 + (0.3 if row_labels else 0.0)  # inches: tick labels, and the row labels
    width = fig.get_figwidth() if fig is not None else min(size * per_row + margin, page.WIDTH)
    panel = (width - margin) / per_row
    # a panel's axes are narrower than its share of the figure (spacing, ticks): titles wrapped
    # to the whole share ran into their neighbours
    titles = [wrap_text(title, 0.85 * panel, TEXT) for title in titles]
    if fig is None:
        lines = max((t.count("\n") + 1 for t in titles if t), default=0)
        # each row: the square panel, its tick labels (TICKS inches) and its title's lines, so
        # that the panels are as wide as their share of the width allows, not cut by the height
        height = (panel + TICKS + lines * TEXT * 1.3 / 72) * nrows + 0.8  # + bar and label
        fig = plt.figure(figsize=(width, height))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(nrows, per_row, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    blocks = list(blocks) if blocks is not None else [None] * len(results)
    for k, (result, title, block) in enumerate(zip(results, titles, blocks)):
        row, col = divmod(k, ncols)
        ax = axes[row * wraps + col // per_row, col % per_row]
        ax.axis("on")
        heatmap(result, ax, title=title, colorbar=False, block=block)
        ax.set(xlabel="", ylabel="")
        ax.title.set_fontsize(TEXT)
    for row, text in enumerate(row_labels or []):
        for ax in axes[row * wraps : (row + 1) * wraps, 0]:
            ax.set_ylabel(text, fontsize=TEXT)
    # the colour bar above the grid, not beside it: the panels keep the page's width
    bar = fig.colorbar(
        axes[0, 0].images[0], ax=axes, location="top", shrink=0.5, aspect=40, fraction=0.04
    )
    bar.set_label("CKA", fontsize=TEXT)
    fig.supxlabel("layer", fontsize=TEXT)
    return fig


def image_grid(images, captions, ncols: int = 8, size: float = 1.0, fontsize: float = 8):
    """Small images with a caption each (e.g. the examples that carry a layer's PC1): ``size``
    inches each, or less so that ``ncols`` fit the page, captions broken to fit under them."""
    nrows = -(-len(images) // ncols)
    size = min(size, page.WIDTH / ncols)
    captions = [wrap_text(caption, 0.95 * size, fontsize) for caption in captions]
    lines = max((c.count("\n") + 1 for c in captions), default=0)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, (size + 0.05 + lines * fontsize * 1.3 / 72) * nrows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        image = np.asarray(image, dtype=float)
        image = image.transpose(1, 2, 0) if image.ndim == 3 else image
        ax.imshow(image.squeeze(), cmap="gray" if image.squeeze().ndim == 2 else None)
        ax.set_title(caption, fontsize=fontsize)
    return fig


def _in_colab() -> bool:
    return "google.colab" in sys.modules


class _RecordedFrames(HTMLWriter):
    """matplotlib's HTML animation writer, each embedded frame saved with its font record."""

    def grab_frame(self, **savefig_kwargs):
        super().grab_frame(metadata=page.record(self.fig, self.dpi), **savefig_kwargs)


def slider(
    draw: Callable,
    values: Sequence,
    label: str,
    *,
    live: bool | None = None,
    figsize=(4.4, 3.6),
    name: Callable = str,
    title: bool = True,
    alt: str | None = None,
):
    """A slider over ``values``; ``draw(value, fig)`` draws one frame onto an empty figure.

    ``name(value)`` is how a value is shown (e.g. '1/16' for a fraction); the static slider's
    title reads '<label>: <name(value)>' (``title=False``: none, for frames that ``draw`` titles
    itself). ``figsize`` is at most page.WIDTH wide. ``alt`` says what a frame shows, for
    readers who cannot see it (default: the label and the values).

    Static (default outside Colab): every frame is rendered once (with its font record) at
    page.RESOLUTION times page.DPI and shown at page.DPI's width, as every figure of the book,
    and embedded as HTML with JavaScript controls (as matplotlib's ``to_jshtml``), so it works in
    the published book with no kernel. Live (default on Colab, or ``live=True``): an ipywidgets
    slider redraws on demand.
    """
    live = _in_colab() if live is None else live
    figsize = (min(figsize[0], page.WIDTH), figsize[1])
    if live:
        import ipywidgets as widgets

        def show(value):
            fig = plt.figure(figsize=figsize)
            draw(value, fig)
            plt.show()

        options = [(name(v), v) for v in values]
        widgets.interact(show, value=widgets.SelectionSlider(options=options, description=label))
        return None  # interact displays itself; returning its function would print it too

    from IPython.display import HTML

    fig = plt.figure(figsize=figsize, layout="constrained")

    def frame(i):
        fig.clear()
        draw(values[i], fig)
        if title:
            fig.suptitle(f"{label}: {name(values[i])}", fontsize=10)

    animation = FuncAnimation(fig, frame, frames=len(values), interval=800)
    with TemporaryDirectory() as folder:  # as Animation.to_jshtml, with the frames recorded
        path = Path(folder, "slider.html")
        writer = _RecordedFrames(fps=1000 / 800, embed_frames=True, default_mode="once")
        animation.save(str(path), writer=writer, dpi=page.DPI * page.RESOLUTION)
        html = path.read_text()
    plt.close(fig)
    alt = alt or f"{label}, one frame for each of {', '.join(name(v) for v in values)}"
    shown = round(figsize[0] * page.DPI)  # CSS px: the frames carry RESOLUTION times as many
    image = f'<img alt="{escape(alt)}" style="width: {shown}px; max-width: 100%" id="_anim_img'
    return HTML(html.replace('<img id="_anim_img', image, 1))
