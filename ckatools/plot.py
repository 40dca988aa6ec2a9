"""Figures in the paper's style, and sliders that work both live (Colab) and in the static book."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

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
]

CMAP = "magma"
STAGE_LINE = "#3b8fd9"  # stage boundaries: visible on both ends of the colour map


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

    Draws into ``fig`` when given (a slider frame), else into a new figure. ``row_labels`` name
    the rows on the left (e.g. the fraction of training data).
    """
    ncols = ncols or len(results)
    nrows = -(-len(results) // ncols)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols + 1.0, (size + 0.2) * nrows))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, result, title in zip(axes.flat, results, titles):
        heatmap(result, ax, title=title, colorbar=False)
        ax.set(xlabel="", ylabel="")
        ax.title.set_fontsize(8)
    for ax in axes.flat[len(results) :]:
        ax.axis("off")
    for ax, text in zip(axes[:, 0], row_labels or []):
        ax.set_ylabel(text, fontsize=9)
    fig.colorbar(axes.flat[0].images[0], ax=axes, shrink=0.8, label="CKA")
    fig.supxlabel("layer", fontsize=9)
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
    title: str = "block score",
):
    """The block score of each cell as a small annotated table, laid out as :func:`run_grid`:
    the mean over the cell's runs (seeds), with their standard deviation when there are several.
    """
    row_keys, col_keys, cells = _layout(runs, rows, cols)
    scores = np.full((len(row_keys), len(col_keys)), np.nan)
    labels = np.full(scores.shape, "", dtype=object)
    for (row, col), members in cells.items():
        values = np.array([r.block.score for r in members])
        i, j = row_keys.index(row), col_keys.index(col)
        scores[i, j] = values.mean()
        labels[i, j] = f"{values.mean():.2f}" + (f"±{values.std():.2f}" if len(values) > 1 else "")
    fig, ax = plt.subplots(
        figsize=(1.6 + 1.2 * len(col_keys), 0.9 + 0.45 * len(row_keys)), layout="constrained"
    )
    ax.imshow(scores, cmap=CMAP, vmin=0, vmax=1, aspect="auto")
    for (i, j), s in np.ndenumerate(scores):
        ax.text(
            j,
            i,
            labels[i, j],
            ha="center",
            va="center",
            color="white" if s < 0.6 else "black",
            fontsize=9,
        )
    ax.set_xticks(range(len(col_keys)), [col_name(k) for k in col_keys], fontsize=8)
    ax.set_yticks(range(len(row_keys)), [row_name(k) for k in row_keys], fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig


def score_plot(groups: dict, knob: Callable, xlabel: str, ax=None, *, log: bool = False):
    """Block score against ``knob(config)`` for each named group of runs: seeds as dots, their mean
    as a line.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3), layout="constrained")
    for i, (name, runs) in enumerate(groups.items()):
        xs = np.array([knob(r.config) for r in runs], dtype=float)
        ys = np.array([r.block.score for r in runs])
        levels = np.unique(xs)
        ax.plot(levels, [ys[xs == x].mean() for x in levels], "-", color=f"C{i}", label=name)
        ax.plot(xs, ys, "o", color=f"C{i}", ms=4, alpha=0.7)
    ax.set(xlabel=xlabel, ylabel="block score", ylim=(0, 1))
    if log:
        ax.set_xscale("log", base=2)
    levels = sorted({knob(r.config) for runs in groups.values() for r in runs})
    ax.set_xticks(levels, [f"{x:g}" for x in levels])
    ax.minorticks_off()
    ax.legend(fontsize=7)
    return ax


def training_curves(histories: dict):
    """Training loss and (augmented) training accuracy per epoch, one line per named history."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        axes[0].plot(epochs, [h["loss"] for h in history], label=name)
        axes[1].plot(epochs, [h["train_accuracy"] for h in history], label=name)
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log")
    axes[1].set(xlabel="epoch", ylabel="training accuracy (augmented)")
    axes[0].legend(fontsize=7, ncol=2)
    return fig


def pc_panels(components, layers, block=None, title: str = ""):
    """Fig. 3's four panels for one network: cos^2 between the layers' PC1s, CKA, the PC1 fraction
    of variance per layer (the block's extent shaded) and CKA with PC1 removed."""
    import torch

    from .capture import CKAResult

    def square(matrix):
        return CKAResult(torch.as_tensor(matrix), layers, layers)

    fig, axes = plt.subplots(2, 2, figsize=(7.6, 6.4), layout="constrained")
    heatmap(square(components.cosines()), axes[0, 0], title="cos² of PC1s", colorbar=False)
    heatmap(square(components.cka()), axes[0, 1], title="CKA", colorbar=False)
    ax = axes[1, 0]
    ax.plot(components.fraction, lw=1)
    if block is not None:
        ax.axvspan(block.start, block.end, color="0.85", label="block")
        ax.legend(fontsize=7)
    ax.set(xlabel="layer", ylabel="PC1 fraction of variance", ylim=(0, 1), title="PC1 variance")
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


def under_heatmaps(runs: Sequence, draw: Callable, ylabel: str, *, size: float = 2.8):
    """The layout of Figs. 4 and 5: each run's heatmap on top and, on the same layer axis below
    it, what ``draw(ax, run)`` plots, with stage boundaries and the block's extent (shaded)."""
    fig, axes = plt.subplots(
        2,
        len(runs),
        figsize=(size * len(runs), 2 * size),
        layout="constrained",
        squeeze=False,
        sharex="col",
    )
    for col, run in enumerate(runs):
        heatmap(run.cka, axes[0, col], title=run.title, colorbar=col == len(runs) - 1)
        axes[0, col].set_xlabel("")
        ax = axes[1, col]
        ax.axvspan(run.block.start - 0.5, run.block.end + 0.5, color="0.88", label="block")
        for x in stage_starts(run.cka.layers_a)[1:]:
            ax.axvline(x - 0.5, color=STAGE_LINE, lw=0.8)
        draw(ax, run)
        ax.set(xlabel="layer", ylabel=ylabel if col == 0 else None)
    axes[1, 0].legend(fontsize=7)
    return fig


def image_grid(images, captions, ncols: int = 8, size: float = 1.0, fontsize: float = 7):
    """Small images with a caption each (e.g. the examples that carry a layer's PC1)."""
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, (size + 0.25) * nrows),
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
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    for ax, pair, tag in zip(axes[:2], (comparison.pair, comparison.baseline), "ab"):
        a, b = pair
        image = joint_panel(
            ax,
            joint_counts(a.correct, b.correct),
            f"{a.name}\nexample accuracy (%)",
            f"{b.name}\nexample accuracy (%)",
        )
        ax.set_title(f"{tag}: {a.label} vs {b.label}", loc="left")
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
    ax.set_title("c: per class (filled: differs)", loc="left")
    ax.legend(fontsize=7)
    return fig


def growth_panels(series: dict, knob: str):
    """Figs. F.2 and F.3: the smallest network's example accuracies against each larger one's
    along a series (knob value -> ``mistakes.Group``), each titled with the groups' accuracy."""
    knobs = sorted(series)
    first = series[knobs[0]]
    fig, axes = plt.subplots(
        1,
        len(knobs) - 1,
        figsize=(3.2 * (len(knobs) - 1), 3.4),
        squeeze=False,
        layout="constrained",
    )
    for ax, k in zip(axes[0], knobs[1:]):
        other = series[k]
        image = joint_panel(
            ax,
            joint_counts(first.correct, other.correct),
            f"{first.label} ({first.accuracy.mean():.1%})\nexample accuracy (%)",
            "example accuracy (%)" if ax is axes[0, 0] else None,
        )
        ax.set_title(f"{knob} {k:g}: {other.label} ({other.accuracy.mean():.1%})", fontsize=9)
    fig.colorbar(image, ax=axes[0], label="examples", shrink=0.8)
    return fig


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def slider(
    draw: Callable,
    values: Sequence,
    label: str,
    *,
    live: bool | None = None,
    figsize=(4.4, 3.6),
    name: Callable = str,
):
    """A slider over ``values``; ``draw(value, fig)`` draws one frame onto an empty figure.

    ``name(value)`` is how a value is shown (e.g. '1/16' for a fraction); the static slider's
    title reads '<label>: <name(value)>'.

    Static (default outside Colab): every frame is rendered once and embedded as HTML with
    JavaScript controls (matplotlib's ``to_jshtml``), so it works in the published book with no
    kernel. Live (default on Colab, or ``live=True``): an ipywidgets slider redraws on demand.
    """
    live = _in_colab() if live is None else live
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
        fig.suptitle(f"{label}: {name(values[i])}", fontsize=10)

    animation = FuncAnimation(fig, frame, frames=len(values), interval=800)
    html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)
