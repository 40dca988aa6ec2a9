"""Figure helpers return the figures they promise, with the panels and labels a reader needs."""

import base64
import re

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ckatools import page  # noqa: E402
from ckatools.analysis.blocks import relative_block, strict_block  # noqa: E402
from ckatools.book.experiments import Run, block_table  # noqa: E402
from ckatools.book.figures import (  # noqa: E402
    growth_panels,
    mistakes_panels,
    run_grid,
    score_plot,
    score_table,
    training_curves,
    under_heatmaps,
)
from ckatools.capture import CKAResult  # noqa: E402
from ckatools.models import resnet  # noqa: E402
from ckatools.plot import (  # noqa: E402
    heatmap,
    heatmap_grid,
    image_grid,
    slider,
    stage_starts,
)
from ckatools.training import TrainConfig, TrainResult  # noqa: E402

LAYERS = resnet(8).representations()


def run(depth=8, width=0.25, fraction=1.0, seed=0, value=0.5):
    matrix = torch.full((len(LAYERS), len(LAYERS)), value, dtype=torch.float64)
    matrix.fill_diagonal_(1.0)
    cka = CKAResult(matrix, LAYERS, LAYERS)
    config = TrainConfig(
        dataset="synthetic", depth=depth, width=width, fraction=fraction, seed=seed
    )
    results = TrainResult(config, (), 1.0, config.epochs, 100, train_accuracy=0.75, accuracy=0.5)
    return Run(config, results, cka, relative_block(cka), strict_block(cka))


def legibility(fig, tmp_path) -> str | None:
    """What keeps ``fig``, saved as the book saves it, from being read in the text column."""
    page.save(fig, tmp_path / "figure.png")
    data = (tmp_path / "figure.png").read_bytes()
    width, _ = page.png_text(data)
    return page.legibility(data, min(width, page.COLUMN_PX))


def test_stage_lines_and_a_fixed_colour_scale():
    ax = heatmap(run().cka)
    assert stage_starts(LAYERS)[1:] == [
        i for i, r in enumerate(LAYERS) if r.name == "stage2.0.conv1"
    ] + [i for i, r in enumerate(LAYERS) if r.name == "stage3.0.conv1"]
    assert ax.images[0].get_clim() == (0.0, 1.0) and len(ax.lines) == 4  # 2 boundaries on each axis
    assert ax.figure.axes[-1].get_ylabel() == "CKA"  # the colour bar
    ax = heatmap(np.eye(6))
    ax.figure.draw_without_rendering()
    ticks = np.concatenate([ax.get_xticks(), ax.get_yticks()])
    assert (ticks == ticks.round()).all()  # layers are whole numbers: no 2.5
    plt.close("all")


def test_figures_fit_the_text_column_with_fonts_a_reader_can_read(tmp_path):
    runs = [run(width=w, seed=s) for w in (0.25, 0.5, 1, 2) for s in (0, 1, 2)]
    fig = run_grid(runs)  # Fig. C.1's twelve panels in one row of the layout
    rows = {round(ax.get_position().y0, 2) for ax in fig.axes if ax.images and ax.get_title()}
    assert len(rows) == 4 and legibility(fig, tmp_path) is None  # wrapped: 4 rows of 3
    grid = run_grid(runs[:10], rows=lambda c: c.seed, cols=lambda c: c.width)  # rows of 2 + 2
    assert legibility(grid, tmp_path) is None
    history = [dict(epoch=e, loss=1 / e, train_accuracy=e / 10) for e in range(1, 4)]
    for fig in (
        heatmap(run().cka, title=runs[0].title).figure,
        score_table(runs, rows=lambda c: c.seed, cols=lambda c: c.width),
        training_curves({"ResNet-8": history}),
        under_heatmaps(runs[:3], lambda ax, r: ax.plot([0, 1], label="x"), "accuracy"),
        image_grid(np.zeros((16, 28, 28)), ["Ankle boot +0.12"] * 16),
    ):
        assert legibility(fig, tmp_path) is None
    fig, ax = plt.subplots(figsize=(30, 3))  # one made as Fig. C.1 was: shrunk to the column
    ax.set_title("ResNet-8", fontsize=8)
    assert legibility(fig, tmp_path).startswith("smallest font 2.")
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
    assert sum("CKA" in (ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes) == 1  # one bar
    assert len(heatmap_grid([r.cka for r in runs[:3]], ["a", "b", "c"], ncols=2).axes) == 5
    plt.close("all")


def test_each_panel_shows_what_the_block_measure_decided():
    import dataclasses

    from matplotlib.patches import Rectangle

    from ckatools.analysis.blocks import Block

    found = dataclasses.replace(run(seed=0), block=Block(4, 9, 0.3, 0.5, found=True))
    none = dataclasses.replace(run(seed=1), block=Block(4, 9, 0.3, 0.5, found=False))
    failed = dataclasses.replace(
        run(seed=2), results=dataclasses.replace(found.results, train_accuracy=0.1)
    )
    fig = run_grid([found, none, failed])
    panels = [ax for ax in fig.axes if ax.images]

    def squares(ax):
        return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]

    def notes(ax):
        return [t.get_text() for t in ax.texts]

    (square,) = squares(panels[0])  # layers 4..9: the square from 3.5 to 9.5 on both axes
    assert (square.get_x(), square.get_y(), square.get_width()) == (3.5, 3.5, 6)
    assert notes(panels[0]) == [] and squares(panels[1]) == [] and notes(panels[1]) == ["no block"]
    assert squares(panels[2]) == [] and notes(panels[2]) == []  # did not train: nothing drawn
    plt.close("all")


def test_score_table_and_score_plot_show_every_score():
    import dataclasses

    runs = [
        run(width=w, fraction=f, value=v) for f, v in ((0.5, 0.2), (1.0, 0.9)) for w in (0.25, 0.5)
    ]
    fig = score_table(runs, rows=lambda c: c.fraction, cols=lambda c: c.width)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 4 and texts[0] == f"{runs[2].block.extent:.2f}"  # all data on top
    failed = dataclasses.replace(
        runs[0], results=dataclasses.replace(runs[0].results, train_accuracy=0.1)
    )
    fig = score_table([failed, *runs[1:]], rows=lambda c: c.fraction, cols=lambda c: c.width)
    assert "did not\ntrain" in [t.get_text() for t in fig.axes[0].texts]  # left out, as trends
    ax = score_plot({"a": runs[:2], "b": runs[2:]}, lambda c: c.width, "width", log=True)
    assert ax.get_xscale() == "log" and len(ax.lines) == 4 and ax.get_ylim() == (0, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.25", "0.5"]
    plt.close("all")


def test_under_heatmaps_puts_two_runs_to_a_row_and_its_legend_below_them():
    runs = [run(seed=s) for s in range(3)]
    fig = under_heatmaps(runs, lambda ax, r: ax.plot([0, 1], label="probe"), "accuracy")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 8 and sum(ax.axison for ax in panels) == 6  # 2 + 1 runs, 2 rows each
    assert [t.get_text() for t in fig.legends[0].texts] == ["probe"]  # no block: no shading
    assert not any(ax.get_legend() for ax in fig.axes)
    plt.close("all")


def test_training_curves_have_a_line_per_network():
    history = [dict(epoch=e, loss=1 / e, train_accuracy=e / 10) for e in range(1, 4)]
    fig = training_curves({"ResNet-8": history, "ResNet-14": history})
    assert [len(ax.lines) for ax in fig.axes] == [2, 2] and fig.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in fig.legends[0].texts] == ["ResNet-8", "ResNet-14"]
    assert not any(ax.get_legend() for ax in fig.axes)  # beside the curves, not over them
    fig.draw_without_rendering()
    labels = [t.get_text() for t in fig.axes[0].yaxis.get_ticklabels() if t.get_text()]
    assert {"0.5", "1"} <= set(labels)  # loss 1/3 .. 1: ticks at 1, 2, 5 x 10^k, in plain numbers
    assert all(re.fullmatch(r"[0-9.]+", label) for label in labels)
    plt.close("all")


def test_static_slider_embeds_every_frame():
    html = slider(
        lambda v, fig: fig.add_subplot().plot([0, v]), [1, 2, 3], "x", name=lambda v: f"v{v}"
    ).data
    assert "animation" in html.lower() and html.count("data:image/png;base64") == 3
    assert '<img alt="x, one frame for each of v1, v2, v3" style="width: 440px' in html
    frames = re.findall(r'"data:image/png;base64,([^"]+)"', html)
    for frame in (base64.b64decode(f.replace("\\\n", "")) for f in frames):
        assert page.png_text(frame)[0] == 440 * page.RESOLUTION  # sharp, shown at 440 px
        assert page.legibility(frame, 440) is None  # each carries its record


def test_the_static_slider_titles_its_frames_unless_they_title_themselves():
    figures = []

    def draw(v, fig):
        figures.append(fig)
        fig.add_subplot().plot([0, v])

    for title, expected in ((True, "x: v3"), (False, "")):
        slider(draw, [1, 2, 3], "x", name=lambda v: f"v{v}", title=title)
        assert figures[-1].get_suptitle() == expected  # the last frame drawn


def test_the_live_slider_returns_nothing_a_notebook_would_print():
    drawn = []
    result = slider(lambda v, fig: drawn.append(v), [1, 2, 3], "x", live=True)
    assert result is None and drawn == [1]  # interact draws the first value at once
    plt.close("all")


def test_the_series_slider_shows_one_seed_a_frame_in_the_knobs_order():
    from ckatools.book.figures import series_slider

    runs = [run(depth=d, seed=s, value=v) for d, v in ((14, 0.9), (8, 0.3)) for s in (1, 0)]
    html = series_slider(runs, lambda c: c.depth, "depth").data
    frames = re.findall(r'"data:image/png;base64,([^"]+)"', html)
    assert len(frames) == 2  # seed 0 only, one frame per depth
    assert 'alt="depth: one CKA heatmap a step, seed 0, 8, 14; the measured block outlined"' in html
    for frame in (base64.b64decode(f.replace("\\\n", "")) for f in frames):
        assert page.shown_heatmap_px(frame, 580) >= 400  # one large heatmap, 580 px shown
        assert page.legibility(frame, 580) is None
    plt.close("all")
    assert series_slider(runs, lambda c: c.depth, "depth", seed=1, live=True) is None
    title = plt.gcf().axes[0].get_title()  # the live slider draws its first frame at once
    assert title.startswith("ResNet-8 ×0.25, synthetic all\nseed 1: train 75.0%, test 50.0%")
    with pytest.raises(ValueError, match="no run of seed 5: the runs have seeds \\[0, 1\\]"):
        series_slider(runs, lambda c: c.depth, "depth", seed=5)
    plt.close("all")


def test_block_table_has_a_row_per_run():
    table = block_table([run(seed=0), run(seed=1, value=0.95)])
    assert list(table.index.get_level_values("seed")) == [0, 1]
    assert {"test acc.", "block", "from", "to", "extent", "contrast"} <= set(table.columns)
    assert np.isfinite(table["extent"]).all() and set(table["block"]) <= {"yes", "no"}


def test_seeds_sharing_a_cell_are_averaged_and_the_first_is_drawn():
    import dataclasses

    from ckatools.analysis.blocks import Block

    a = dataclasses.replace(run(seed=0), block=Block(0, 1, 0.2, 0.0))
    b = dataclasses.replace(run(seed=1), block=Block(0, 1, 0.4, 0.0))
    fig = score_table([a, b], rows=lambda c: c.fraction, cols=lambda c: c.width)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.30±0.10"]  # both have a block
    fig = run_grid([a, b], rows=lambda c: c.fraction, cols=lambda c: c.width)
    assert fig.axes[0].get_title() == a.title
    plt.close("all")


def test_fig_7_panels_count_every_example_and_mark_classes_that_differ(tmp_path):
    import dataclasses

    from ckatools.analysis.mistakes import Group, compare

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
    assert legibility(fig, tmp_path) is None
    failed = again.correct.copy()
    failed[0] = False  # seed 0 did not train: it gets every example wrong
    again = dataclasses.replace(again, correct=failed, train_accuracy=np.r_[0.1, np.ones(7)])
    assert f"{again.trained().accuracy.mean():.1%}" != f"{again.accuracy.mean():.1%}"
    fig = growth_panels({8: wide, 14: deep, 20: again}, "depth")
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        f"depth 14: ResNet-38 ×0.25 ({deep.accuracy.mean():.1%})",
        f"depth 20: R ({again.trained().accuracy.mean():.1%})",  # as mistakes.growth counts
    ]
    none = dataclasses.replace(again, train_accuracy=np.zeros(8))  # the smoke profile's groups
    fig = growth_panels({8: wide, 20: none}, "depth")
    assert fig.axes[0].texts[0].get_text() == "no trained network\nto compare"
    assert legibility(fig, tmp_path) is None
    plt.close("all")
