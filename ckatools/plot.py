"""Figures in the paper's style, and sliders that work both live (Colab) and in the static book."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
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

from . import page
from .mistakes import joint_counts

__all__ = [
    "joint_panel",
    "mistakes_panels",
    "growth_panels",
    "pc_panels",
    "under_heatmaps",
    "image_grid",
    "heatmap",
    "heatmap_grid",
    "run_grid",
    "score_table",
    "score_plot",
    "training_curves",
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


def _wrap(text: str, width: float, fontsize: float) -> str:
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


def _rows(n: int, most: int) -> tuple[int, int]:
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


def heatmap(
    result, ax=None, *, title: str | None = None, colorbar: bool = True, stages: bool = True
):
    """CKA heatmap: input at the origin, layers of A up the y axis and of B along x, colours fixed
    to 0..1.

    ``result`` is a :class:`~ckatools.capture.CKAResult` (stage boundaries are drawn from its
    representation lists) or a bare square matrix.
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
    if stages and hasattr(result, "layers_a"):
        for start in stage_starts(result.layers_a)[1:]:
            ax.axhline(start - 0.5, color=STAGE_LINE, lw=0.7, ls=":")
        for start in stage_starts(result.layers_b)[1:]:
            ax.axvline(start - 0.5, color=STAGE_LINE, lw=0.7, ls=":")
    layer_ticks(ax.xaxis, ax.yaxis)
    ax.tick_params(labelsize=TEXT)
    ax.set_xlabel("layer" if matrix.shape[0] == matrix.shape[1] else "layer (model B)")
    ax.set_ylabel("layer" if matrix.shape[0] == matrix.shape[1] else "layer (model A)")
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
):
    """Several heatmaps in a grid with one shared colour bar (as the paper's multi-panel figures).

    The grid has rows of ``ncols`` panels (all in one row by default); a row longer than MAX_COLS
    is wrapped onto several, evenly. Panels are ``size`` inches, or less so that the figure fits
    the page, and titles are broken onto more lines where they are wider than their panel.
    Draws into ``fig`` when given (a slider frame), else into a new figure. ``row_labels`` name
    the rows on the left (e.g. the fraction of training data), on each row a wrapped row takes.
    """
    ncols = ncols or len(results)
    wraps, per_row = _rows(ncols, MAX_COLS)  # each row of the grid takes `wraps` rows
    nrows = -(-len(results) // ncols) * wraps
    margin = 1.0  # inches: the colour bar and the row labels
    width = fig.get_figwidth() if fig is not None else min(size * per_row + margin, page.WIDTH)
    panel = (width - margin) / per_row
    # a panel's axes are narrower than its share of the figure (spacing, ticks): titles wrapped
    # to the whole share ran into their neighbours
    titles = [_wrap(title, 0.85 * panel, TEXT) for title in titles]
    if fig is None:
        lines = max((t.count("\n") + 1 for t in titles if t), default=0)
        fig = plt.figure(figsize=(width, (panel + lines * TEXT * 1.3 / 72) * nrows + 0.3))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(nrows, per_row, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (result, title) in enumerate(zip(results, titles)):
        row, col = divmod(k, ncols)
        ax = axes[row * wraps + col // per_row, col % per_row]
        ax.axis("on")
        heatmap(result, ax, title=title, colorbar=False)
        ax.set(xlabel="", ylabel="")
        ax.title.set_fontsize(TEXT)
    for row, text in enumerate(row_labels or []):
        for ax in axes[row * wraps : (row + 1) * wraps, 0]:
            ax.set_ylabel(text, fontsize=TEXT)
    fig.colorbar(axes[0, 0].images[0], ax=axes, shrink=min(0.8, 2 / nrows), label="CKA")
    fig.supxlabel("layer", fontsize=TEXT)
    return fig


def _layout(runs: Sequence, rows: Callable | None, cols: Callable | None):
    """Row keys (largest first, as in the paper's Fig. 2), column keys, and the runs of each
    cell (several when seeds share a cell)."""
    rows = rows or (lambda config: 0)
    cols = cols or (lambda config: id(config))
    row_keys = sorted({rows(r.config) for r in runs}, reverse=True)
    col_keys = list(dict.fromkeys(cols(r.config) for r in runs))
    cells: dict = {}
    for r in runs:
        cells.setdefault((rows(r.config), cols(r.config)), []).append(r)
    return row_keys, col_keys, cells


def run_grid(
    runs: Sequence,
    rows: Callable | None = None,
    cols: Callable | None = None,
    row_name: Callable | None = None,
    *,
    size: float = 2.4,
    fig=None,
):
    """Heatmaps of ``runs`` (:class:`~ckatools.experiments.Run`), each titled by its run.

    Without ``rows`` and ``cols``, one row in the runs' order; otherwise ``rows(config)`` down
    (largest key on top) and ``cols(config)`` across, rows labelled by ``row_name(key)``. When
    several runs share a cell (seeds), the first is drawn.
    """
    row_keys, col_keys, cells = _layout(runs, rows, cols)
    order = [cells.get((i, j), [None])[0] for i in row_keys for j in col_keys]
    return heatmap_grid(
        [r.cka if r else np.full((1, 1), np.nan) for r in order],
        [r.title if r else "" for r in order],
        ncols=len(col_keys),
        size=size,
        fig=fig,
        row_labels=[row_name(k) for k in row_keys] if row_name else None,
    )


def score_table(
    runs: Sequence,
    rows: Callable,
    cols: Callable,
    row_name: Callable = str,
    col_name: Callable = str,
    *,
    title: str = "block extent",
):
    """The block extent of each cell (0 without a block) as a small annotated table, laid out as
    :func:`run_grid`: the mean over the cell's trained runs (seeds), with their standard deviation
    when there are several, as the trend lines count them; "did not train" where none trained.
    """
    row_keys, col_keys, cells = _layout(runs, rows, cols)
    scores = np.full((len(row_keys), len(col_keys)), np.nan)
    labels = np.full(scores.shape, "", dtype=object)
    for (row, col), members in cells.items():
        values = np.array([r.block.extent for r in members if r.trained])
        i, j = row_keys.index(row), col_keys.index(col)
        if not len(values):
            labels[i, j] = "did not\ntrain"
            continue
        scores[i, j] = values.mean()
        labels[i, j] = f"{values.mean():.2f}" + (f"±{values.std():.2f}" if len(values) > 1 else "")
    column = min(1.2, (page.WIDTH - 1.6) / len(col_keys))
    fig, ax = plt.subplots(
        figsize=(1.6 + column * len(col_keys), 0.9 + 0.45 * len(row_keys)), layout="constrained"
    )
    ax.imshow(scores, cmap=CMAP, vmin=0, vmax=1, aspect="auto")
    for (i, j), s in np.ndenumerate(scores):
        ax.text(
            j,
            i,
            labels[i, j],
            ha="center",
            va="center",
            color="white" if s < 0.6 else "black",  # NaN (did not train): on white, black
            fontsize=TEXT,
        )
    names = [_wrap(col_name(k), 0.95 * column, TEXT) for k in col_keys]
    ax.set_xticks(range(len(col_keys)), names, fontsize=TEXT)
    ax.set_yticks(range(len(row_keys)), [row_name(k) for k in row_keys], fontsize=TEXT)
    ax.set_title(title, fontsize=10)
    return fig


def score_plot(groups: dict, knob: Callable, xlabel: str, ax=None, *, log: bool = False):
    """Block extent (0 without a block) against ``knob(config)`` for each named group of runs,
    as the trend lines count it: trained seeds as dots, their mean as a line.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3), layout="constrained")
    for i, (name, runs) in enumerate(groups.items()):
        runs = [r for r in runs if r.trained]
        xs = np.array([knob(r.config) for r in runs], dtype=float)
        ys = np.array([r.block.extent for r in runs])
        levels = np.unique(xs)
        ax.plot(levels, [ys[xs == x].mean() for x in levels], "-", color=f"C{i}", label=name)
        ax.plot(xs, ys, "o", color=f"C{i}", ms=4, alpha=0.7)
    ax.set(xlabel=xlabel, ylabel="block extent", ylim=(0, 1))
    if log:
        ax.set_xscale("log", base=2)
    levels = sorted({knob(r.config) for runs in groups.values() for r in runs})
    ax.set_xticks(levels, [f"{x:g}" for x in levels])
    ax.minorticks_off()
    ax.legend(fontsize=LEGEND)
    return ax


def training_curves(histories: dict):
    """Training loss and (augmented) training accuracy per epoch, one line per named history."""
    fig, axes = plt.subplots(1, 2, figsize=(page.WIDTH, 3.0), layout="constrained")
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        axes[0].plot(epochs, [h["loss"] for h in history], label=name)
        axes[1].plot(epochs, [h["train_accuracy"] for h in history], label=name)
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log")
    plain_log_ticks(axes[0].yaxis)
    axes[1].set(xlabel="epoch", ylabel="training accuracy (augmented)")
    fig.legend(  # below both panels: inside one, the legend covers its curves
        *axes[0].get_legend_handles_labels(),
        loc="outside lower center",
        ncol=min(len(histories), 5),
        fontsize=LEGEND,
        frameon=False,
    )
    return fig


def pc_panels(components, layers, block=None, title: str = ""):
    """Fig. 3's four panels for one network: cos^2 between the layers' PC1s, CKA, the PC1 fraction
    of variance per layer (the block's extent shaded) and CKA with PC1 removed."""
    import torch

    from .capture import CKAResult

    def square(matrix):
        return CKAResult(torch.as_tensor(matrix), layers, layers)

    fig, axes = plt.subplots(2, 2, figsize=(page.WIDTH, 6.0), layout="constrained")
    heatmap(square(components.cosines()), axes[0, 0], title="cos² of PC1s", colorbar=False)
    heatmap(square(components.cka()), axes[0, 1], title="CKA", colorbar=False)
    ax = axes[1, 0]
    ax.plot(components.fraction, lw=1)
    if block is not None and block.present:
        ax.axvspan(block.start, block.end, color="0.85", label="block")
        ax.legend(fontsize=LEGEND)
    ax.set(xlabel="layer", ylabel="PC1 fraction of variance", ylim=(0, 1), title="PC1 variance")
    layer_ticks(ax.xaxis)
    ax.title.set_fontsize(10)
    heatmap(
        square(components.cka(without_pc1=True)),
        axes[1, 1],
        title="CKA without PC1",
        colorbar=False,
    )
    fig.colorbar(axes[0, 0].images[0], ax=axes, shrink=0.6, label="cos² / CKA")
    fig.suptitle(title, fontsize=10)
    return fig


def under_heatmaps(
    runs: Sequence, draw: Callable, ylabel: str, *, size: float = 3.4, most: int = 2
):
    """The layout of Figs. 4 and 5: each run's heatmap on top and, on the same layer axis below
    it, what ``draw(ax, run)`` plots, with stage boundaries and the block's extent (shaded, where
    there is one). At most ``most`` runs to a row, each ``size`` inches wide or less so that the
    figure fits the page; one legend below them all, where it covers no curve."""
    n_rows, n_cols = _rows(len(runs), most)
    size = min(size, page.WIDTH / n_cols)
    fig, axes = plt.subplots(
        2 * n_rows,
        n_cols,
        figsize=(size * n_cols, 2 * size * n_rows),
        layout="constrained",
        squeeze=False,
    )
    for i, run in enumerate(runs):
        row, col = divmod(i, n_cols)
        top, ax = axes[2 * row, col], axes[2 * row + 1, col]
        heatmap(run.cka, top, title=_wrap(run.title, 0.85 * size, 10), colorbar=False)
        top.set_xlabel("")
        ax.sharex(top)
        if run.block.present:
            ax.axvspan(run.block.start - 0.5, run.block.end + 0.5, color="0.88", label="block")
        for x in stage_starts(run.cka.layers_a)[1:]:
            ax.axvline(x - 0.5, color=STAGE_LINE, lw=0.8)
        draw(ax, run)
        ax.set(xlabel="layer", ylabel=ylabel if col == 0 else None)
    for i in range(len(runs), n_rows * n_cols):  # the last row's empty places
        row, col = divmod(i, n_cols)
        axes[2 * row, col].axis("off")
        axes[2 * row + 1, col].axis("off")
    # one colour bar for all: beside every row, it keeps each heatmap as wide as the panel below
    fig.colorbar(axes[0, 0].images[0], ax=axes, shrink=0.4 / n_rows, label="CKA")
    legend = {}  # label -> handle, over every panel: the first may lack the block's shading
    for ax in axes[1::2].ravel():
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(
        legend.values(),
        legend.keys(),
        loc="outside lower center",
        ncol=min(len(legend), 4),
        fontsize=LEGEND,
        frameon=False,
    )
    return fig


def image_grid(images, captions, ncols: int = 8, size: float = 1.0, fontsize: float = 8):
    """Small images with a caption each (e.g. the examples that carry a layer's PC1): ``size``
    inches each, or less so that ``ncols`` fit the page, captions broken to fit under them."""
    nrows = -(-len(images) // ncols)
    size = min(size, page.WIDTH / ncols)
    captions = [_wrap(caption, 0.95 * size, fontsize) for caption in captions]
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


def joint_panel(ax, counts: np.ndarray, xlabel: str, ylabel: str):
    """How many examples sit at each pair of example accuracies (``mistakes.joint_counts``), in
    a logarithmic colour scale with empty cells left white; the diagonal is where the two
    groups agree. Returns the image, for a colour bar."""
    from matplotlib.colors import LogNorm

    na, nb = (n - 1 for n in counts.shape)
    image = ax.imshow(
        np.ma.masked_equal(counts.T, 0),
        origin="lower",
        extent=(-50 / na, 100 + 50 / na, -50 / nb, 100 + 50 / nb),
        aspect="auto",
        cmap="viridis",
        norm=LogNorm(vmin=1, vmax=max(counts.max(), 2)),
    )
    ax.plot([0, 100], [0, 100], color="0.5", lw=0.8, ls="--")
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(-5, 105), ylim=(-5, 105))
    return image


def mistakes_panels(comparison, class_name: Callable[[int], str]):
    """Fig. 7: a the pair's example accuracies against each other, b the baseline pair's, c
    each class's accuracy difference (first group minus second), filled where it survives the
    Holm-Sidak correction, with the baseline pair's differences beside it."""
    fig = plt.figure(figsize=(page.WIDTH, 7.0), layout="constrained")
    axes = list(fig.subplot_mosaic([["a", "b"], ["c", "c"]]).values())
    for ax, pair, tag in zip(axes[:2], (comparison.pair, comparison.baseline), "ab"):
        a, b = pair
        image = joint_panel(
            ax,
            joint_counts(a.correct, b.correct),
            f"{a.name}\nexample accuracy (%)",
            f"{b.name}\nexample accuracy (%)",
        )
        ax.set_title(f"{tag}: {a.label}\nvs {b.label}", loc="left", fontsize=10)
    fig.colorbar(image, ax=axes[:2], label="examples", shrink=0.8)
    ax = axes[2]
    for rows, color, offset, name in (
        (
            comparison.classes,
            "C0",
            -0.15,
            f"{comparison.pair[0].label} - {comparison.pair[1].label}",
        ),
        (comparison.baseline_classes, "C1", 0.15, "baseline (same architecture)"),
    ):
        x = np.arange(len(rows)) + offset
        gap = np.array([100 * (r["accuracy_a"] - r["accuracy_b"]) for r in rows])
        differs = np.array([r["differs"] for r in rows])
        ax.scatter(x, gap, facecolor=np.where(differs, color, "none"), edgecolor=color, label=name)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(range(len(rows)), [class_name(r["label"]) for r in rows], rotation=60)
    ax.set(ylabel="class accuracy difference (points)")
    ax.set_title("c: per class (filled: differs)", loc="left", fontsize=10)
    ax.legend(fontsize=LEGEND)
    return fig


def growth_panels(series: dict, knob: str):
    """Figs. F.2 and F.3: the smallest network's example accuracies against each larger one's
    along a series (knob value -> ``mistakes.Group``), each titled with the groups' accuracy; at
    most MAX_COLS panels to a row. Networks that did not train are left out, as in
    :func:`ckatools.mistakes.growth`."""
    series = {k: group.trained() for k, group in series.items()}
    knobs = sorted(series)
    first = series[knobs[0]]
    nrows, per_row = _rows(len(knobs) - 1, MAX_COLS)
    panel = min(3.2, (page.WIDTH - 0.8) / per_row)
    fig, axes = plt.subplots(
        nrows,
        per_row,
        figsize=(panel * per_row + 0.8, 3.4 * nrows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[len(knobs) - 1 :]:
        ax.axis("off")
    image = None
    for ax, k in zip(axes.flat, knobs[1:]):
        other = series[k]
        if not (len(first) and len(other)):  # a group none of whose networks trained
            ax.set_title(_wrap(f"{knob} {k:g}: {other.label}", 0.95 * panel, TEXT), fontsize=TEXT)
            ax.text(0.5, 0.5, "no trained network\nto compare", ha="center", va="center")
            ax.set(xticks=[], yticks=[])
            continue
        image = joint_panel(
            ax,
            joint_counts(first.correct, other.correct),
            f"{first.label} ({first.accuracy.mean():.1%})\nexample accuracy (%)",
            "example accuracy (%)" if ax in axes[:, 0] else None,
        )
        title = f"{knob} {k:g}: {other.label} ({other.accuracy.mean():.1%})"
        ax.set_title(_wrap(title, 0.95 * panel, TEXT), fontsize=TEXT)
    if image is not None:
        fig.colorbar(image, ax=axes, label="examples", shrink=min(0.8, 1.6 / nrows))
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
):
    """A slider over ``values``; ``draw(value, fig)`` draws one frame onto an empty figure.

    ``name(value)`` is how a value is shown (e.g. '1/16' for a fraction); the static slider's
    title reads '<label>: <name(value)>' (``title=False``: none, for frames that ``draw`` titles
    itself). ``figsize`` is at most page.WIDTH wide.

    Static (default outside Colab): every frame is rendered once (with its font record) and
    embedded as HTML with JavaScript controls (as matplotlib's ``to_jshtml``), so it works in the
    published book with no kernel. Live (default on Colab, or ``live=True``): an ipywidgets
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
        animation.save(str(path), writer=writer, dpi=page.DPI)
        html = path.read_text()
    plt.close(fig)
    return HTML(html)
