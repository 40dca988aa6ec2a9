"""Figures in the paper's style, and sliders that work both live (Colab) and in the static book."""
from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

__all__ = ["heatmap", "heatmap_grid", "slider", "stage_starts"]

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


def heatmap(result, ax=None, *, title: Optional[str] = None, colorbar: bool = True, stages: bool = True):
    """CKA heatmap: input at the origin, layers of A up the y axis and of B along x, colours fixed to 0..1.

    ``result`` is a :class:`~ckatools.capture.CKAResult` (stage boundaries are drawn from its
    representation lists) or a bare square matrix.
    """
    matrix = np.asarray(getattr(result, "matrix", result), dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.4))
    image = ax.imshow(matrix, origin="lower", cmap=CMAP, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
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


def heatmap_grid(results: Sequence, titles: Sequence[str], ncols: Optional[int] = None, size: float = 2.6):
    """Several heatmaps side by side with one shared colour bar (as the paper's multi-panel figures)."""
    ncols = ncols or len(results)
    nrows = -(-len(results) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows), squeeze=False, layout="constrained")
    for ax, result, title in zip(axes.flat, results, titles):
        heatmap(result, ax, title=title, colorbar=False)
    for ax in axes.flat[len(results):]:
        ax.axis("off")
    fig.colorbar(axes.flat[0].images[0], ax=axes, shrink=0.8, label="CKA")
    return fig


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def slider(draw: Callable, values: Sequence, label: str, *, live: Optional[bool] = None, figsize=(4.4, 3.6)):
    """A slider over ``values``; ``draw(value, fig)`` draws one frame onto an empty figure.

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

        return widgets.interact(show, value=widgets.SelectionSlider(options=list(values), description=label))

    from IPython.display import HTML

    fig = plt.figure(figsize=figsize)

    def frame(i):
        fig.clear()
        draw(values[i], fig)
        fig.suptitle(f"{label} = {values[i]}", fontsize=10)

    animation = FuncAnimation(fig, frame, frames=len(values), interval=800)
    html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)
