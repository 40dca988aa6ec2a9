"""The chapters' own figures: grids of runs, block-extent tables, Fig. 3's PC panels, the panels
under heatmaps, Fig. 9's mistake panels. Generic drawing (heatmaps, grids, sliders) is in
:mod:`ckatools.plot`; these compose it for one chapter's records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ckatools import page
from ckatools.analysis.across import best_matches
from ckatools.analysis.mistakes import joint_counts
from ckatools.plot import (
    CMAP,
    LEGEND,
    MAX_COLS,
    STAGE_LINE,
    TEXT,
    grid_shape,
    heatmap,
    heatmap_grid,
    layer_ticks,
    plain_log_ticks,
    slider,
    stage_starts,
    wrap_text,
)
from ckatools.training import fraction_label

__all__ = [
    "run_grid",
    "series_slider",
    "score_table",
    "score_plot",
    "training_curves",
    "pc_panels",
    "under_heatmaps",
    "joint_panel",
    "mistakes_panels",
    "growth_panels",
]


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
    """Heatmaps of ``runs`` (:class:`~ckatools.book.experiments.Run`), each titled by its run,
    with its measured block outlined (or "no block" written; nothing for a network that did not
    train).

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
        blocks=[r.block if r and r.trained else None for r in order],
    )


def _series_title(run) -> str:
    """A slider frame's title: the architecture and data, then the seed's accuracies and block."""
    c, r = run.config, run.results
    fit = f"train {r.train_accuracy:.1%}, test {r.accuracy:.1%}"
    return f"{c.label}, {c.dataset} {fraction_label(c.fraction)}\nseed {c.seed}: {fit}, " + (
        run.verdict_word
    )


def series_slider(
    runs: Sequence,
    knob: Callable,
    label: str,
    *,
    seed: int | None = None,
    name: Callable = str,
    live: bool | None = None,
):
    """The blog's slider: one large heatmap per step of a series (e.g. Shallow -> Deep), so the
    trend is read by moving one control. ``knob(config)`` orders the steps and ``name(value)``
    labels them; one seed is shown (``seed``, or the smallest the runs have). Each frame titles
    its heatmap with the architecture, data, accuracies and block, and outlines the block.

    Static in the book (every frame embedded), a live ipywidgets slider on Colab
    (:func:`ckatools.plot.slider`).
    """
    seed = min(r.config.seed for r in runs) if seed is None else seed
    steps = {knob(r.config): r for r in runs if r.config.seed == seed}
    if not steps:
        raise ValueError(
            f"no run of seed {seed}: the runs have seeds {sorted({r.config.seed for r in runs})}"
        )
    values = sorted(steps)

    def draw(value, fig):
        run = steps[value]
        ax = fig.add_subplot()
        heatmap(run.cka, ax, title=_series_title(run), block=run.block if run.trained else None)

    alt = (
        f"{label}: one CKA heatmap a step, seed {seed}, "
        f"{', '.join(name(v) for v in values)}; the measured block outlined"
    )
    return slider(
        draw, values, label, live=live, figsize=(5.8, 5.2), name=name, title=False, alt=alt
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
    names = [wrap_text(col_name(k), 0.95 * column, TEXT) for k in col_keys]
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

    from ckatools.capture import CKAResult

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
    n_rows, n_cols = grid_shape(len(runs), most)
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
        heatmap(run.cka, top, title=wrap_text(run.title, 0.85 * size, 10), colorbar=False)
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
    :func:`ckatools.analysis.mistakes.growth`."""
    series = {k: group.trained() for k, group in series.items()}
    knobs = sorted(series)
    first = series[knobs[0]]
    nrows, per_row = grid_shape(len(knobs) - 1, MAX_COLS)
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
            ax.set_title(
                wrap_text(f"{knob} {k:g}: {other.label}", 0.95 * panel, TEXT), fontsize=TEXT
            )
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
        ax.set_title(wrap_text(title, 0.95 * panel, TEXT), fontsize=TEXT)
    if image is not None:
        fig.colorbar(image, ax=axes, label="examples", shrink=min(0.8, 1.6 / nrows))
    return fig


def pair_panels(pair, a, b):
    """Fig. E.1 for two networks ``a`` (rows) and ``b``, both runs: their own CKA maps on top,
    their cross-model map bottom left, and bottom right each layer of ``a`` at its relative
    depth against the relative depth of its most similar layer of ``b``.

    Args:
        pair: their :class:`~ckatools.capture.PopulationCKA` (a first).
    """
    la, lb = a.config.label, b.config.label
    fig, axes = plt.subplots(2, 2, figsize=(7, 6.4), layout="constrained")
    heatmap(pair[0, 0], axes[0, 0], title=a.title, colorbar=False)
    heatmap(pair[1, 1], axes[0, 1], title=b.title, colorbar=False)
    heatmap(pair[0, 1], axes[1, 0], title=f"{la} (rows)\nvs {lb}", colorbar=False)
    axes[1, 0].set(ylabel=f"layer of {la}", xlabel=f"layer of {lb}")
    fig.colorbar(axes[0, 0].images[0], ax=axes[0, :], label="CKA")  # one bar, clear of the plot
    own, match = best_matches(pair[0, 1])
    axes[1, 1].plot(own, match, "o", ms=3)
    axes[1, 1].plot([0, 1], [0, 1], "--", color="0.6")
    axes[1, 1].set(xlabel=f"relative depth in {la}", ylabel=f"best match in {lb}")
    axes[1, 1].set_title("best-matching layers", fontsize=10)
    return fig
