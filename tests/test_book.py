"""The book's structure and its stored outputs: every chapter is in the table of contents, every
figure cell stores its figure, every paper figure has one verdict, and lines fit the page."""

import ast
import copy
import json
import re
from pathlib import Path

import pytest

import ckatools.book.figures
import ckatools.page
import ckatools.plot
from ckatools.analysis.verdicts import LINE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_LINE = 100  # characters of a code line (the style's limit)
MAX_PRINTED = ckatools.page.COLUMN_CHARS  # characters of printed output: no horizontal scroll

# The paper figures each chapter rebuilds: each needs exactly one verdict line in its outputs.
FIGURES = {
    "03_block_structure": {"Fig. 1", "Fig. D.1", "Fig. C.1"},
    "04_less_data": {"Fig. 2", "Fig. D.2", "Fig. D.3", "Fig. D.4"},
    "05_the_first_principal_component": {"Fig. 3", "Fig. D.5", "Fig. D.6", "Fig. D.8"},
    "06_linear_probes": {"Fig. 4"},
    "07_collapsing_the_block_structure": {"Fig. 5"},
    "08_across_seeds_and_architectures": {"Fig. 6", "Fig. E.1"},
    "09_wide_and_deep_make_different_mistakes": {"Fig. 7", "Fig. F.1", "Fig. F.2", "Fig. F.3"},
    "02_a_family_of_resnets": {"Table B.1"},
    # Chapter 10: the later papers' claims it rebuilds.
    "10_beyond_the_paper": {
        "Nguyen 2022, dominant datapoints",
        "Nguyen 2022, during training",
        "Davari 2023, translation",
    },
    "11_cka_among_its_peers": set(),  # beyond the paper: no figure of its to judge
    "12_the_study_behind_the_profile": set(),  # the appendix: the study, no figure to judge
}
# Calls that draw: matplotlib's and every public function of ckatools.plot.
DRAWING = {
    "subplots",
    "figure",
    "imshow",
    "plot",
    "scatter",
    "errorbar",
    "hist",
    "bar",
    "matshow",
    "add_subplot",
} | (set(ckatools.plot.__all__) | set(ckatools.book.figures.__all__)) - {
    "stage_starts",
    "wrap_text",
    "grid_shape",
}


def _config_value(key: str) -> str:
    return re.search(rf"^\s*{key}:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M).group(1)


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def _code(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _calls(node) -> set:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            names.add(
                n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", None)
            )
    return names - {None}


def _stores_figure(cell: dict) -> bool:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data or "animation" in "".join(data.get("text/html", "")).lower():
            return True
        shown = "".join(output.get("text", "")) + "".join(data.get("text/plain", ""))
        if "not run in this profile" in shown:  # the step this figure needs was skipped
            return True
    return False


def figure_cells_without_figure(nb: dict) -> list[int]:
    """Indices of code cells whose top-level statements draw (directly or through a function
    defined in the notebook) but that store no image or static slider."""
    trees = [ast.parse("".join(c["source"])) for c in _code(nb)]
    drawers = set(DRAWING)
    for tree in trees:
        drawers |= {
            n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and _calls(n) & drawers
        }
    missing = []
    for i, (cell, tree) in enumerate(zip(_code(nb), trees)):
        top = [
            n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))
        ]
        if any(_calls(n) & drawers for n in top) and not _stores_figure(cell):
            missing.append(i)
    return missing


def _printed(nb: dict) -> str:
    return "\n".join(
        "".join(o.get("text", ""))
        for c in _code(nb)
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no notebooks found"
    for nb in NOTEBOOKS:
        assert f"file: notebooks/{nb.stem}" in toc, f"{nb.name} is missing from _toc.yml"


def test_chapters_open_with_a_running_note_a_visible_install_cell_setup_and_the_profile():
    url = _config_value("url")
    for page in (ROOT / "README.md", ROOT / "book" / "intro.md"):  # set_repository writes both
        assert f"{url}" in page.read_text(), f"{page.name} does not name {url} (_config.yml)"
    for path in NOTEBOOKS:
        nb = _notebook(path)
        code = _code(nb)
        install = "".join(code[0]["source"])
        assert "google.colab" in install and f"git+{url}" in install, (
            f"{path.name}: first cell must install from {url}"
        )
        hidden = {"remove-cell", "hide-cell", "remove-input", "hide-input"}
        assert not hidden & set(code[0]["metadata"].get("tags", [])), (
            f"{path.name}: the install cell must be visible on the page"
        )
        first = nb["cells"].index(code[0])
        assert any("Running this chapter" in "".join(c["source"]) for c in nb["cells"][:first]), (
            f"{path.name}: the running note (choose a GPU) must come before the install cell"
        )
        assert "profiles.active(" in "".join(code[1]["source"]), (
            f"{path.name}: second code cell chooses the profile"
        )
        assert "setup()" in "".join(code[1]["source"]), (
            f"{path.name}: second code cell calls ckatools.book.setup() (import changes nothing)"
        )
        assert "hide-input" in code[1]["metadata"].get("tags", []), (
            f"{path.name}: hide the setup cell's code"
        )
        text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert "Running this chapter" in text, f"{path.name}: no 'Running this chapter' note"
        assert "Runtime → Change runtime type → GPU" in text and "use_drive()" in text, (
            f"{path.name}: the running note must say how to get a GPU and keep the cache on Drive"
        )
        upload = re.search(r'glob\("([^"]+\.zip)"\)', "".join(code[0]["source"]))[1]
        assert f"`{upload}`" in text, f"{path.name}: the running note names the zip to upload"
        assert nb["metadata"].get("accelerator") == "GPU", f"{path.name}: ask Colab for a GPU"
        assert nb["metadata"].get("colab", {}).get("gpuType"), f"{path.name}: no Colab gpuType"


def test_chapters_end_with_exercises_and_hidden_solutions():
    for path in NOTEBOOKS:
        text = "".join(
            c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            for c in _notebook(path)["cells"]
            if c["cell_type"] == "markdown"
        )
        assert "## Exercises" in text and ":class: dropdown" in text, (
            f"{path.name}: no exercises with solutions"
        )
        checked = [
            c
            for c in _code(_notebook(path))
            if re.search(r"^check\(answer\b", "".join(c["source"]), re.M)
        ]
        assert checked, f"{path.name}: no exercise whose answer a cell checks (exercises.check)"


def test_committed_notebooks_carry_cpu_profile_outputs():
    for path in NOTEBOOKS:
        text = json.dumps(_code(_notebook(path))[1]["outputs"])
        assert "profile cpu" in text, f"{path.name}: stored outputs must come from the cpu profile"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_cell_stores_its_figure(path):
    assert figure_cells_without_figure(_notebook(path)) == []


def test_the_figure_check_catches_a_stripped_image():
    nb = _notebook(ROOT / "notebooks" / "03_block_structure.ipynb")
    stripped = copy.deepcopy(nb)
    victim = next(
        c for c in _code(stripped) if any("image/png" in o.get("data", {}) for o in c["outputs"])
    )
    victim["outputs"] = [o for o in victim["outputs"] if "image/png" not in o.get("data", {})]
    assert figure_cells_without_figure(nb) == []
    assert len(figure_cells_without_figure(stripped)) == 1


def _shown(nb: dict) -> str:
    """Everything a chapter printed or displayed as plain text (verdicts also show as Markdown)."""
    texts = [
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for c in _code(nb)
        for o in c.get("outputs", [])
    ]
    return "\n".join(texts)


def _scorecard():
    """The book's Sphinx extension _ext/scorecard.py, loaded as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("scorecard", ROOT / "_ext" / "scorecard.py")
    scorecard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorecard)
    return scorecard


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_each_paper_figure_has_exactly_one_verdict(stem):
    verdicts = [
        m["figure"] for m in LINE.finditer(_shown(_notebook(ROOT / "notebooks" / f"{stem}.ipynb")))
    ]
    assert sorted(verdicts) == sorted(FIGURES[stem])


def test_code_and_printed_lines_fit_the_text_column():
    for path in NOTEBOOKS:
        nb = _notebook(path)
        for cell in _code(nb):
            for line in "".join(cell["source"]).splitlines():
                assert len(line) <= MAX_LINE, (
                    f"{path.name}: code line over {MAX_LINE} characters: {line}"
                )
        for line in _printed(nb).splitlines():
            assert len(line) <= MAX_PRINTED, (
                f"{path.name}: printed line over {MAX_PRINTED} characters: {line}"
            )


def test_capacity_verdicts_are_gated_on_the_regime_the_chapters_printed():
    from ckatools.analysis.claims import CAPACITY
    from ckatools.analysis.verdicts import FIT
    from ckatools.book import regime

    scorecard = _scorecard()
    captions = scorecard.regimes(NOTEBOOKS)
    assert any(captions.values()), "no chapter prints a provenance caption the box can read"
    reused = captions[ROOT / "notebooks" / f"{scorecard.REUSED}.ipynb"]
    found = scorecard.verdicts(NOTEBOOKS)
    for path in NOTEBOOKS:
        for text in scorecard._cells(_notebook(path)):  # the captions of the verdict's own cell
            networks = regime.deciding(regime.read(text) or captions[path] or reused)
            fit = all(a >= FIT for a in networks.values())
            for line in LINE.finditer(text):
                outcome, evidence, _, printed = found[line["figure"]]
                assert printed == line["outcome"]
                judged = printed not in ("not run in this profile", "not testable")
                own = " largest networks " in line["evidence"]  # the cells applied the gate
                if line["figure"] in CAPACITY and judged and not own and not fit:
                    assert outcome == "not testable" and "its parts alone: " + printed in evidence
                else:
                    assert outcome == printed, line["figure"]
    for page in ("intro", "scorecard"):
        assert "```{regime}" in (ROOT / "book" / f"{page}.md").read_text()


def test_the_chapters_gate_their_capacity_verdicts_in_the_cell_that_prints_them():
    """Every claim about capacity a chapter judged went through experiments.judged in its cell
    (its evidence then counts the largest networks that fit)."""
    from ckatools.analysis.claims import CAPACITY

    for path in NOTEBOOKS:
        for line in LINE.finditer(_shown(_notebook(path))):
            judged = line["outcome"] not in ("not run in this profile", "not testable")
            if line["figure"] in CAPACITY and judged:
                assert " largest networks " in line["evidence"], (path.name, line["figure"])


def test_the_scorecard_lists_every_verdict_of_every_chapter():
    from ckatools.analysis.claims import CLAIMS

    scorecard = _scorecard()
    printed = {m["figure"] for path in NOTEBOOKS for m in LINE.finditer(_shown(_notebook(path)))}
    assert set(scorecard.verdicts(NOTEBOOKS)) == printed
    assert printed <= set(CLAIMS) and set().union(*FIGURES.values()) <= printed
    assert "{scorecard}" in (ROOT / "book" / "scorecard.md").read_text()
    assert "file: book/scorecard" in (ROOT / "_toc.yml").read_text()
    for path in NOTEBOOKS:  # every page's box names its profile as its setup cell printed it
        assert scorecard.profile(path) in ("cpu", "?"), path
    from ckatools.analysis.verdicts import Check, checks_verdict

    parts = {f"network {i}": Check(0.1 * (i % 3 - 1), 0.05) for i in range(30)}
    long = checks_verdict("Fig. D.5", "PC1 explains more variance inside", parts).evidence
    assert scorecard.brief(long) == (
        "PC1 explains more variance inside: 10 of 30 hold, 10 against (network 0, network 3, "
        "network 6, network 9, network 12, network 15, network 18, network 21, network 24, "
        "network 27), 10 cannot tell; 0 of those 20 decide after Holm-Sidak over 30 parts; "
        "each part is listed at the figure"
    )
    short = checks_verdict("Fig. 3", "a claim", {"one part": Check(0.3, 0.1)}).evidence
    assert scorecard.brief(short) == short


def test_boxes_give_a_gated_verdicts_networks_as_the_range_they_reach():
    scorecard = _scorecard()
    gated = (
        "3 of 3 largest networks do not fit their data (>= 99% training accuracy; ResNet-56 ×1 "
        "1/16 73%-77%, ResNet-14 ×4 1/16 84.5%); its parts alone: reproduced - a block in 3 of 3"
    )
    assert scorecard.brief(gated) == (
        "3 of 3 largest networks do not fit their data (>= 99% training accuracy; they reach "
        "73%-84.5%); its parts alone: reproduced - a block in 3 of 3"
    )
    assert scorecard.brief("a block in 3 of 3") == "a block in 3 of 3"


def test_the_regime_box_states_stage7s_reading_once_every_network_is_measured(
    monkeypatch, stage7_complete
):
    from ckatools import study

    scorecard = _scorecard()
    progress = study.stage7_progress()
    gap = [(c, None) for c, _ in progress[:1]] + progress[1:]
    monkeypatch.setattr(study, "stage7_progress", lambda: gap)
    done = sum(item is not None for _, item in gap)
    assert f"{done} of its {len(gap)} networks are measured" in scorecard.interim()
    full = stage7_complete
    monkeypatch.setattr(study, "stage7_progress", lambda: full)
    text = scorecard.interim()
    fig1 = study.stage7_fig1(full)
    assert f"Chapter 3's Fig. 1 rule on the study's networks: **{fig1.outcome}**" in text
    for _, row in study.stage7_trends(full).iterrows():
        assert study.trend_sentence(row) in text
    assert "Verdict (" not in text  # the scorecard reads verdict lines from the chapters only
    assert scorecard.moved_chapters(NOTEBOOKS) in text  # which chapters show that regime


def test_the_scorecard_quotes_the_papers_sentence_beside_each_verdict():
    from ckatools.analysis.claims import CLAIMS

    scorecard = _scorecard()
    for figure, claim in CLAIMS.items():
        shown = scorecard.said(figure)
        if claim.quote:  # the paper's own words, with where they stand
            assert shown == f"“{claim.quote}” ({claim.section})", figure
        else:  # later work: the book's brief claim, not a quote
            assert shown == claim.brief and "“" not in shown, figure
    assert scorecard.said("Fig. 99") == ""


@pytest.mark.parametrize("name, least", [("03_block_structure", 3), ("04_less_data", 1)])
def test_the_blogs_sliders_are_stored_in_the_chapters(name, least):
    """Chapter 3 steps Shallow -> Deep, Narrow -> Wide and C.1 by width; Chapter 4 More -> Less
    data: static sliders (matplotlib's HTML animation), stored in the notebook's outputs."""
    outputs = [
        o for c in _code(_notebook(ROOT / "notebooks" / f"{name}.ipynb")) for o in c["outputs"]
    ]
    sliders = ["".join(o.get("data", {}).get("text/html", "")) for o in outputs]
    assert sum('id="_anim_img' in html for html in sliders) >= least, f"{name}: sliders missing"


def test_the_regime_box_names_only_chapters_whose_captions_say_their_regime(tmp_path):
    """A chapter that lists no networks in its captions is neither in this regime nor in the
    earlier one; a chapter whose captions print other epochs is named as the earlier regime's."""
    scorecard = _scorecard()
    now = (ROOT / "notebooks" / "03_block_structure.ipynb").read_text()
    silent = (ROOT / "notebooks" / "01_measuring_similarity_with_cka.ipynb").read_text()
    paths = {name: tmp_path / name for name in ("01_a.ipynb", "03_b.ipynb", "05_c.ipynb")}
    paths["01_a.ipynb"].write_text(silent)
    paths["03_b.ipynb"].write_text(now)
    paths["05_c.ipynb"].write_text(now.replace("128 epochs", "15 epochs"))
    assert scorecard.moved_chapters(sorted(paths.values())) == (
        "Of the chapters whose captions list their networks, those whose stored outputs come "
        "from that regime: 3; those of 5 come from the earlier one (1/16 of the data, 15 epochs)."
    )
    both = [paths["01_a.ipynb"], paths["03_b.ipynb"]]
    assert scorecard.moved_chapters(both).startswith(
        "Every chapter whose captions list its networks (3) "
    )
