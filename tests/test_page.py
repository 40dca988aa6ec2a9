"""Figures carry a record of their smallest font, notebooks show them through it, and the HTML
check reads it against the width the page shows each figure at."""

import base64
import importlib.util
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ckatools import page  # noqa: E402
from ckatools.book import setup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def png(width: int, **texts: str) -> bytes:
    """A made-up PNG header: IHDR of ``width`` pixels and tEXt chunks (no image data)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, 100, 8, 6, 0, 0, 0))
    text = b"".join(chunk(b"tEXt", f"{k}\0{v}".encode("latin-1")) for k, v in texts.items())
    return b"\x89PNG\r\n\x1a\n" + header + text + chunk(b"IEND", b"")


def recorded(width: int, dpi: float, font: str) -> bytes:
    return png(width, **{page.DPI_KEY: f"{dpi:g}", page.FONT_KEY: font})


def test_the_smallest_font_is_scaled_to_the_width_the_page_shows():
    record = {page.DPI_KEY: "100", page.FONT_KEY: "9"}
    assert page.png_text(recorded(700, 100, "9")) == (700, record)
    assert page.shown_font_pt(recorded(700, 100, "9"), 700) == pytest.approx(9 * 100 / 96)
    assert page.legibility(recorded(700, 100, "9"), 700) is None
    assert page.legibility(recorded(768, 96, "8"), 768) is None  # exactly 8 pt, unshrunk
    assert page.legibility(recorded(700, 100, page.NO_TEXT), 100) is None  # nothing to read
    # Fig. C.1 as a reader found it: 12 panels in one row, 2,984 px shrunk into the column
    problem = page.legibility(recorded(2984, 100, "8"), page.COLUMN_PX)
    assert problem == "smallest font 2.1 pt (under 8): 2984 px shown at 736"
    assert page.legibility(recorded(700, 100, "7"), 700).startswith("smallest font 7.3 pt")


def test_heatmap_panels_narrower_than_the_minimum_fail_where_they_are_shown():
    def panels(width_px: int, dpi: float, inches: float) -> bytes:
        texts = {page.DPI_KEY: f"{dpi:g}", page.FONT_KEY: "9", page.HEATMAP_KEY: f"{inches}"}
        return png(width_px, **texts)

    # five 1.4-inch panels of a 7-inch figure at 100 dpi: 140 px each at natural size
    assert page.shown_heatmap_px(panels(700, 100, 1.4), 700) == pytest.approx(140)
    assert page.legibility(panels(700, 100, 1.4), 700) == (
        "a heatmap 140 px wide (under 170): 700 px shown at 700"
    )
    assert page.legibility(panels(1400, 200, 1.75), 700) is None  # 2x resolution, 175 px shown
    assert page.legibility(panels(1400, 200, 1.75), 600).startswith("a heatmap 150 px")
    assert page.shown_heatmap_px(recorded(700, 100, "9"), 700) is None  # recorded before panels


def test_the_narrowest_heatmap_is_a_panel_plot_heatmap_drew_measured_as_laid_out():
    from ckatools.plot import heatmap, heatmap_grid

    fig, axes = plt.subplots(1, 3, figsize=(9, 2), layout="constrained")
    heatmap(np.random.rand(6, 6), axes[0])  # a heatmap, drawn as the book draws them
    axes[1].imshow(np.random.rand(4, 4, 3))  # a photograph: not a heatmap
    axes[2].imshow(np.random.rand(2, 9), aspect="auto")  # a table of scores
    width = page.narrowest_heatmap(fig)
    assert width == pytest.approx(axes[0].get_position().width * 9)
    assert 1.0 < width < 3.0 and page.record(fig)[page.HEATMAP_KEY] == f"{width:.3f}"
    plt.close(fig)
    grid = heatmap_grid([np.eye(6)] * 6, ["a"] * 6)  # two rows of three at the page's width
    assert page.narrowest_heatmap(grid) * page.DPI >= page.MIN_HEATMAP_PX
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert page.narrowest_heatmap(fig) is None and page.record(fig)[page.HEATMAP_KEY] == "none"
    plt.close("all")


def test_a_figure_without_a_record_fails():
    assert page.legibility(png(700), 700) == "no font record"
    assert page.legibility(b"GIF89a", 700) == "no font record"


def test_the_smallest_font_counts_what_is_drawn():
    fig, (ax, hidden) = plt.subplots(1, 2)
    ax.set_title("title", fontsize=9)
    ax.plot([0, 1], label="line")
    ax.legend(fontsize=8.5)
    ax.text(0, 0, "", fontsize=2)  # empty
    ax.text(0, 0, "unseen", fontsize=3).set_visible(False)
    hidden.tick_params(labelsize=4)
    hidden.axis("off")  # its tick labels are not drawn
    assert page.smallest_font(fig) == 8.5
    fig.colorbar(ax.imshow([[0, 1]]), ax=ax).ax.tick_params(labelsize=7.5)
    assert page.smallest_font(fig) == 7.5
    plt.close("all")


def test_saved_figures_carry_their_dpi_and_smallest_font(tmp_path):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.tick_params(labelsize=9)
    page.save(fig, tmp_path / "figure.png")
    width, texts = page.png_text((tmp_path / "figure.png").read_bytes())
    assert texts[page.DPI_KEY] == "100" and texts[page.FONT_KEY] == "9"
    assert width <= 3 * page.DPI  # cropped to its content
    plt.close("all")


SHELL = """
import base64
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

shell = InteractiveShell.instance()
shell.run_cell("import ckatools.book; ckatools.book.setup()")
with capture_output() as shown:
    shell.run_cell("import matplotlib.pyplot as plt\\nplt.subplots()[1].tick_params(labelsize=8.5)")
import pandas as pd
print(base64.b64decode(shown.outputs[0].data["image/png"]).hex())
print(shown.outputs[0].metadata["image/png"]["width"])
print(pd.get_option("display.max_colwidth"), pd.get_option("display.max_columns"))
"""


def test_notebook_figures_are_shown_through_the_recording_formatter():
    """In IPython with the inline backend (as in a kernel), ckatools.book.setup() makes the
    figures the backend flushes at the end of a cell PNGs with a font record, and pandas tables
    whole."""
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    done = subprocess.run(
        [sys.executable, "-c", SHELL], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    image, shown_width, options = done.stdout.split("\n")[-4:-1]
    width, texts = page.png_text(bytes.fromhex(image))
    assert texts[page.DPI_KEY] == "200" and texts[page.FONT_KEY] == "8.5"
    assert int(shown_width) == round(width / 2)  # 2 image px per CSS px: as wide as at 100 dpi
    shown = page.shown_font_pt(bytes.fromhex(image), int(shown_width))
    assert shown == pytest.approx(8.5 * page.DPI / 96, rel=0.01)  # as a 100 dpi figure reads
    assert options == "None None"


IMPORT_ONLY = """
from IPython.core.interactiveshell import InteractiveShell
import pandas as pd

shell = InteractiveShell.instance()
png = shell.display_formatter.formatters["image/png"]
before = (dict(png.type_printers), dict(png.deferred_printers))
options = ("display.max_columns", "display.max_colwidth", "display.width")
values = [pd.get_option(o) for o in options]
shell.run_cell("import ckatools, ckatools.analysis, ckatools.training, ckatools.study")
shell.run_cell("import ckatools.book.experiments, ckatools.book.figures")
assert (dict(png.type_printers), dict(png.deferred_printers)) == before, "PNG formatter changed"
assert [pd.get_option(o) for o in options] == values, "pandas options changed"
print("unchanged")
"""


def test_importing_ckatools_changes_nothing_global():
    """A library import inside IPython leaves IPython's formatters and pandas' options alone;
    only an explicit ckatools.book.setup() changes them (the test above)."""
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("unchanged")


def test_outside_ipython_setup_does_nothing():
    assert setup() is False


def _check_html():
    spec = importlib.util.spec_from_file_location("check_html", ROOT / "tools" / "check_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_html_check_flags_small_figures_and_tables_that_do_not_scroll(tmp_path):
    check = _check_html()
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "wide.png").write_bytes(recorded(2984, 100, "8"))
    (tmp_path / "_images" / "fits.png").write_bytes(recorded(700, 100, "9"))
    inline = "data:image/png;base64," + base64.b64encode(png(440)).decode()
    report = {
        "column": 736,
        "images": [
            ["../_static/images/logo_colab.png", 225, 0, "Colab logo", False],  # the theme's
            ["../_images/wide.png", 2984, 736, "Figure of the section “A”", True],
            ["../_images/fits.png", 700, 0, "../_images/fits.png", True],  # folded away
            [inline, 440, 440, "", False],  # a slider's frame
        ],
        "tables": [[1900, True], [900, False], [700, False]],
    }
    problems = check.layout_problems(tmp_path / "chapters" / "chapter.html", report)
    assert problems == [
        "wide.png: smallest font 2.1 pt (under 8): 2984 px shown at 736",
        "fits.png: no description, or not a link to its full size",
        "inline figure 1: no font record",
        "a table 900 px wide in a 736 px column, no scroll",
    ]
    assert check.layout_problems(tmp_path / "chapter.html", {}) == [
        "the page did not report its layout"
    ]


def test_printed_text_fits_the_column_and_undefined_numbers_read_as_words():
    long = (
        "  (bn): BatchNorm2d(16, eps=0.001, momentum=0.01, affine=True, track_running_stats=True)"
    )
    fitted = page.fit("short\n" + long * 2, width=40)
    assert all(len(line) <= 40 for line in fitted.splitlines())
    assert fitted.splitlines()[0] == "short" and fitted.splitlines()[2].startswith("      ")
    assert " ".join(fitted.split()) == " ".join(("short\n" + long * 2).split())  # nothing lost
    assert page.signed(0.1234) == "+0.123" and page.signed(float("nan")) == "n/a"
    assert page.signed(-0.0004) == "+0.000" and page.signed(-0.0006) == "-0.001"


def test_readable_tables_join_intervals_and_name_undefined_values():
    import pandas as pd

    frame = pd.DataFrame(
        dict(
            series=["width", "depth"],
            rho=[-0.66, float("nan")],
            rho_low=[-0.97, float("nan")],
            rho_high=[-0.45, float("nan")],
            with_block=[7, 0],
            cost=[2.613, 0.9],
        )
    )
    shown = page.readable(frame)
    assert list(shown.columns) == ["series", "rho", "rho 95 % interval", "with block", "cost"]
    assert list(shown["rho 95 % interval"]) == ["[-0.97, -0.45]", "n/a"]
    assert list(shown["rho"]) == ["-0.66", "n/a"] and list(shown["cost"]) == ["2.61", "0.90"]
    assert list(shown["with block"]) == [7, 0] and frame.shape == (2, 6)  # the input is kept
