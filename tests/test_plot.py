"""Figure helpers return the figures they promise, with the panels and labels a reader needs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ckatools.blocks import relative_block, strict_block  # noqa: E402
from ckatools.capture import CKAResult  # noqa: E402
from ckatools.experiments import Run, block_table  # noqa: E402
from ckatools.models import resnet  # noqa: E402
from ckatools.plot import (  # noqa: E402
    growth_panels,
    heatmap,
    heatmap_grid,
    mistakes_panels,
    run_grid,
    score_plot,
    score_table,
    slider,
    stage_starts,
    training_curves,
)
from ckatools.train import TrainConfig  # noqa: E402

LAYERS = resnet(8).representations()


def run(depth=8, width=0.25, fraction=1.0, seed=0, value=0.5):
    matrix = torch.full((len(LAYERS), len(LAYERS)), value, dtype=torch.float64)
    matrix.fill_diagonal_(1.0)
    cka = CKAResult(matrix, LAYERS, LAYERS)
    config = TrainConfig(
        dataset="synthetic", depth=depth, width=width, fraction=fraction, seed=seed
    )
    results = dict(accuracy=0.5, train_accuracy=0.75, train_size=100)
    return Run(config, results, cka, relative_block(cka), strict_block(cka))


def test_stage_lines_and_a_fixed_colour_scale():
    ax = heatmap(run().cka)
    assert stage_starts(LAYERS)[1:] == [
        i for i, r in enumerate(LAYERS) if r.name == "stage2.0.conv1"
    ] + [i for i, r in enumerate(LAYERS) if r.name == "stage3.0.conv1"]
    assert ax.images[0].get_clim() == (0.0, 1.0) and len(ax.lines) == 4  # 2 boundaries on each axis
    assert ax.figure.axes[-1].get_ylabel() == "CKA"  # the colour bar
    plt.close("all")


def test_grids_lay_out_rows_largest_first_with_titles_and_one_colour_bar():
    runs = [run(width=w, fraction=f) for f in (0.25, 1.0) for w in (0.25, 0.5)]
    fig = run_grid(
        runs, rows=lambda c: c.fraction, cols=lambda c: c.width, row_name=lambda f: f"f={f}"
    )
    panels = [ax for ax in fig.axes if ax.images]
    assert (
        len(panels) == 4
        and panels[0].get_ylabel() == "f=1.0"
        and panels[2].get_ylabel() == "f=0.25"
    )
    assert panels[0].get_title().startswith("ResNet-8 ×0.25, all data\nseed 0: test 50%")
    assert sum(ax.get_ylabel() == "CKA" for ax in fig.axes) == 1
    assert len(heatmap_grid([r.cka for r in runs[:3]], ["a", "b", "c"], ncols=2).axes) == 5
    plt.close("all")


def test_score_table_and_score_plot_show_every_score():
    runs = [
        run(width=w, fraction=f, value=v) for f, v in ((0.5, 0.2), (1.0, 0.9)) for w in (0.25, 0.5)
    ]
    fig = score_table(runs, rows=lambda c: c.fraction, cols=lambda c: c.width)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 4 and texts[0] == f"{runs[2].block.score:.2f}"  # all data on top
    ax = score_plot({"a": runs[:2], "b": runs[2:]}, lambda c: c.width, "width", log=True)
    assert ax.get_xscale() == "log" and len(ax.lines) == 4 and ax.get_ylim() == (0, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.25", "0.5"]
    plt.close("all")


def test_training_curves_have_a_line_per_network():
    history = [dict(epoch=e, loss=1 / e, train_accuracy=e / 10) for e in range(1, 4)]
    fig = training_curves({"ResNet-8": history, "ResNet-14": history})
    assert [len(ax.lines) for ax in fig.axes] == [2, 2] and fig.axes[0].get_yscale() == "log"
    plt.close("all")


def test_static_slider_embeds_every_frame():
    html = slider(
        lambda v, fig: fig.add_subplot().plot([0, v]), [1, 2, 3], "x", name=lambda v: f"v{v}"
    ).data
    assert "animation" in html.lower() and html.count("data:image/png;base64") == 3


def test_the_live_slider_returns_nothing_a_notebook_would_print():
    drawn = []
    result = slider(lambda v, fig: drawn.append(v), [1, 2, 3], "x", live=True)
    assert result is None and drawn == [1]  # interact draws the first value at once
    plt.close("all")


def test_block_table_has_a_row_per_run():
    table = block_table([run(seed=0), run(seed=1, value=0.95)])
    assert list(table.index.get_level_values("seed")) == [0, 1]
    assert {"block from", "to", "size", "score", "contrast", "strict score"} <= set(table.columns)
    assert table["strict score"].iloc[1] == pytest.approx(1.0) and np.isfinite(table["score"]).all()


def test_seeds_sharing_a_cell_are_averaged_and_the_first_is_drawn():
    import dataclasses

    from ckatools.blocks import Block

    a = dataclasses.replace(run(seed=0), block=Block(0, 1, 0.2, 0.0))
    b = dataclasses.replace(run(seed=1), block=Block(0, 1, 0.4, 0.0))
    fig = score_table([a, b], rows=lambda c: c.fraction, cols=lambda c: c.width)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.30±0.10"]
    fig = run_grid([a, b], rows=lambda c: c.fraction, cols=lambda c: c.width)
    assert fig.axes[0].get_title() == a.title
    plt.close("all")


def test_fig_7_panels_count_every_example_and_mark_classes_that_differ():
    from ckatools.mistakes import Group, compare

    rng = np.random.default_rng(0)
    labels = np.arange(400) % 4

    def group(label, rate, networks=8):
        correct = rng.random((networks, len(labels))) < np.where(labels == 0, rate, 0.7)
        return Group(label, tuple(range(networks)), correct, np.ones(networks), depth=8)

    wide, deep, again = group("ResNet-8 ×0.5", 0.9), group("ResNet-38 ×0.25", 0.3), group("R", 0.9)
    fig = mistakes_panels(compare((wide, deep), (wide, again), labels), lambda c: f"class {c}")
    a, b, c = fig.axes[:3]
    assert a.images[0].get_array().sum() == b.images[0].get_array().sum() == len(labels)
    assert [t.get_text() for t in c.get_xticklabels()] == [f"class {k}" for k in range(4)]
    filled = c.collections[0].get_facecolors()[:, 3]  # alpha 0 where a class does not differ
    assert filled[0] > 0 and not filled[1:].any()  # only class 0 was planted
    fig = growth_panels({8: wide, 14: deep, 20: again}, "depth")
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        f"depth 14: ResNet-38 ×0.25 ({deep.accuracy.mean():.1%})",
        f"depth 20: R ({again.accuracy.mean():.1%})",
    ]
    plt.close("all")
