"""Sphinx extension: verdicts collected from the notebooks' stored outputs when the book is built.

- ``{scorecard}``: a table of every figure and table of the paper, with the verdict the chapter
  that rebuilds it printed (linked to the verdict's own place in the chapter), or why none is.
- ``{result-box}``: the box at the top of a chapter: what it rebuilds (the directive's text) and
  what it found (its verdict lines, read from its own stored outputs, so the box can never
  disagree with the cells below it).
- ``{regime}``: the book's regime (data, epochs, networks, the training accuracy they reached,
  read from the chapters' provenance captions) beside the paper's.
- every stored output that prints a verdict line gets an anchor, ``#verdict-fig-1``.

Verdicts on claims about capacity are gated on the regime of the networks that printed them
(:func:`ckatools.analysis.verdicts.in_regime`, with the accuracies the chapter's captions print;
a chapter that prints none is gated on the whole book's): the box and the scorecard show the
gated outcome and what the chapter's cells printed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

from ckatools.analysis.claims import CAPACITY, CLAIMS
from ckatools.analysis.verdicts import FIT, LINE, OUTCOMES, UNVERDICTED, Verdict, in_regime
from ckatools.book import regime

ROOT = Path(__file__).resolve().parents[1]


def outputs_text(notebook: dict) -> str:
    """What a notebook printed or displayed as plain text."""
    return "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for o in cell.get("outputs", [])
    )


def regimes(notebooks: list[Path]) -> dict[Path, list[regime.Regime]]:
    """chapter -> the provenance captions its stored outputs print."""
    return {path: regime.read(outputs_text(json.loads(path.read_text()))) for path in notebooks}


def book_captions(notebooks: list[Path]) -> list[regime.Regime]:
    """Every provenance caption of every chapter, in order."""
    return [r for found in regimes(notebooks).values() for r in found]


REUSED = "03_block_structure"  # the chapter whose networks Chapters 5-8 and 10 reuse


def _cells(notebook: dict) -> list[str]:
    """What each code cell printed, one text per cell."""
    return [outputs_text(dict(cells=[cell])) for cell in notebook["cells"]]


def verdicts(notebooks: list[Path]) -> dict[str, tuple[str, str, Path, str]]:
    """figure -> (outcome, evidence, chapter, printed outcome) for every verdict line in the
    stored outputs, gated on the fit of the largest networks of the captions printed in the
    verdict's own cell; else of its chapter's captions; else (a chapter that reuses Chapter 3's
    networks and prints none) of Chapter 3's, read from the same folder as ``notebooks``."""
    found = {}
    folder = notebooks[0].parent if notebooks else ROOT / "notebooks"
    reused = regime.read(outputs_text(json.loads((folder / f"{REUSED}.ipynb").read_text())))
    for path in notebooks:
        notebook = json.loads(path.read_text())
        chapter = regime.read(outputs_text(notebook)) or reused
        for text in _cells(notebook):
            networks = regime.deciding(regime.read(text) or chapter)
            for match in LINE.finditer(text):
                printed = Verdict(match["figure"], match["outcome"], match["evidence"].strip())
                judged = in_regime(printed, networks)
                found[judged.figure] = (judged.outcome, judged.evidence, path, printed.outcome)
    return found


def shown(outcome: str, printed: str) -> str:
    """The outcome in bold, and what the test alone gave when the regime changed it."""
    return f"**{outcome}**" + ("" if outcome == printed else f" (the test alone: {printed})")


def profile(notebook: Path) -> str:
    """The profile the stored outputs came from (the setup cell prints 'profile NAME: ...')."""
    text = outputs_text(json.loads(notebook.read_text()))
    return next(
        (line.split()[1].rstrip(":,") for line in text.splitlines() if line.startswith("profile ")),
        "?",
    )


BRIEF = 400  # characters: longer evidence is cut to its tally in the boxes and the scorecard
TALLY = re.compile(
    r"(?P<head>.*?\d+ of \d+ hold, \d+ against), "
    r"(?P<rest>\d+ cannot tell(?:; \d+ of those \d+ decide after Holm-Sidak over \d+ parts)?) "
    r"\((?P<parts>.*)\)$"
)


GATED = re.compile(r"^(\d+ of \d+ largest networks do not fit their data) \(([^;()]+); ([^()]*)\)")


def _reached(match: re.Match) -> str:
    """A regime gate's list of networks as the range of accuracies they reached."""
    found = [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)%", match[3])]
    low, high = min(found), max(found)
    span = f"{low:g}%" if low == high else f"{low:g}%-{high:g}%"
    return f"{match[1]} ({match[2]}; they reach {span})"


def brief(evidence: str) -> str:
    """Evidence short enough for a box: the networks a regime gate lists give way to the regime
    line, and a long list of parts becomes its tally, naming the parts that go against (the
    figure's own output lists them all)."""
    evidence = GATED.sub(_reached, evidence)
    match = TALLY.match(evidence)
    if len(evidence) <= BRIEF or match is None:
        return evidence
    against = [p.split(": against (")[0] for p in match["parts"].split("; ") if ": against (" in p]
    named = f" ({', '.join(against)})" if against else ""
    return f"{match['head']}{named}, {match['rest']}; each part is listed at the figure"


def anchor(figure: str) -> str:
    """'Fig. D.1' -> 'verdict-fig-d-1': the id of the output that prints its verdict."""
    return "verdict-" + re.sub(r"[^a-z0-9]+", "-", figure.lower()).strip("-")


def link(figure: str, path: Path, prefix: str = "../notebooks/") -> str:
    return f'<a href="{prefix}{path.stem}.html#{anchor(figure)}">{figure}</a>'


def _rows(cells: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]


def said(figure: str) -> str:
    """The paper's sentence for a figure, quoted with its section (the brief claim for later
    work, which the book does not quote)."""
    claim = CLAIMS.get(figure)
    if claim is None:
        return ""
    if not claim.quote:
        return claim.brief
    return f"“{claim.quote}” ({claim.section})"


def chapters(env=None) -> list[Path]:
    """Every chapter's notebook, in order; with Sphinx's ``env``, each noted as a dependency of
    the page being built, so that the page is rebuilt when any chapter's outputs change."""
    found = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in found if env is not None else ():
        env.note_dependency(str(path))
    return found


class Scorecard(Directive):
    def run(self):
        notebooks = chapters(self.state.document.settings.env)
        found = verdicts(notebooks)
        counts = Counter(outcome for outcome, *_ in found.values())
        rows = [
            "In this build: "
            + "; ".join(f"**{o}** {counts[o]}" for o in OUTCOMES if counts[o])
            + ". *Not reproduced* means some part of the claim goes against the paper beyond "
            "its uncertainty, corrected for the number of parts (the data say otherwise); "
            "*inconclusive* means no part is clear of its uncertainty after that correction "
            "(the data cannot tell); *not testable* means the claim is about "
            "networks that fit their training data and the ones that decide it here do not (the "
            "outcome their cells printed is shown beside it).",
            "",
            "| figure | the paper's claim | verdict | profile | the numbers that decided it |",
            "|---|---|---|---|---|",
        ]
        for figure in list(CLAIMS) + sorted(set(found) - set(CLAIMS)):
            claim = said(figure)
            if figure in found:
                outcome, evidence, path, printed = found[figure]
                cells = [
                    link(figure, path),
                    claim,
                    shown(outcome, printed),
                    f"`{profile(path)}`",
                    brief(evidence),
                ]
                rows += _rows([cells])
            else:
                rows += _rows([[figure, claim, "no chapter yet", "", ""]])
        rows += [
            "",
            "How the book tests each claim, the unit its test counts, and where the test is not "
            "yet the paper's sentence (each such departure is an open item of the book's "
            "tracker):",
            "",
            "| figure | the test | unit | departs from the sentence |",
            "|---|---|---|---|",
        ]
        rows += _rows([[c.figure, c.test, c.unit, c.departs or "-"] for c in CLAIMS.values()])
        rows += [
            "",
            "Figures and tables of the paper that make no claim a verdict can test, or that no "
            "profile can rebuild here:",
            "",
            "| figure or table | what it shows | where, and why no verdict |",
            "|---|---|---|",
        ]
        rows += _rows([[name, what, why] for name, (what, why) in UNVERDICTED.items()])
        container = nodes.container()
        self.state.nested_parse(StringList(rows), self.content_offset, container)
        return container.children


class ResultBox(Directive):
    """What the chapter rebuilds (the directive's content) and what it found (its verdicts)."""

    has_content = True

    def run(self):
        env = self.state.document.settings.env
        path = ROOT / f"{env.docname}.ipynb"
        env.note_dependency(str(path))
        found = verdicts([path]) if path.exists() else {}
        captions = regime.read(outputs_text(json.loads(path.read_text()))) if path.exists() else []
        lines = list(self.content) + [""]
        if found:
            lines += [f"What it found (`{profile(path)}` profile, from the outputs below):", ""]
            for figure, (outcome, evidence, _, printed) in found.items():
                target = f'<a href="#{anchor(figure)}">{figure}</a>'
                lines += [f"- {target}: {shown(outcome, printed)} - {brief(evidence)}"]
        if captions:
            lines += ["", regime.chapter_line(captions)]
        elif any(figure in CAPACITY for figure in found):  # judged on Chapter 3's networks
            source = ROOT / "notebooks" / f"{REUSED}.ipynb"
            env.note_dependency(str(source))
            reused = regimes([source]).popitem()[1]
            lines += ["", regime.chapter_line(reused, whose="reused")]
        else:
            book = book_captions(chapters(env))
            if book:
                lines += ["", regime.chapter_line(book, whose="book")]
        box = nodes.admonition(classes=["result-box", "tip"])
        box += nodes.title(text="This chapter in brief")
        self.state.nested_parse(StringList(lines), self.content_offset, box)
        return [box]


def interim() -> str:
    """What the book's regime means for its verdicts in this build, and where the regime in
    which networks fit stands (the study's stage 7), computed from the stored outputs and the
    committed result files."""
    from ckatools import study

    notebooks = chapters()
    found = verdicts(notebooks)
    capacity = [f for f in found if f in CAPACITY and found[f][3] != "not run in this profile"]
    gated = sum(found[f][0] == "not testable" for f in capacity)
    progress = study.stage7_progress()
    done = sum(item is not None for _, item in progress)
    figures = ", ".join(f for f in CLAIMS if f in CAPACITY and f.startswith("Fig."))
    head = (
        f"Claims about capacity ({figures}, and the block claims of later work) are judged only "
        f"where their largest networks fit their data: in this build {gated} of the "
        f"{len(capacity)} such verdicts are *not testable*. "
    )
    appendix = "[the study's appendix](../notebooks/12_the_study_behind_the_profile.ipynb)"
    trends = study.stage7_trends(progress)
    if trends is None:
        return head + (
            f"The regime in which networks fit (1/32 of the data for 128 epochs, chosen by the "
            f"study's stage 6) is being trained: {done} of its {len(progress)} networks are "
            f"measured ({appendix}); the chapters move to it once it is complete."
        )
    fig1 = study.stage7_fig1(progress)
    fit = sum(item.results.train_accuracy >= FIT for _, item in progress)
    series = "; ".join(
        f"{study.trend_sentence(row)}, a block in {row.with_block} of "
        f"{row.networks - row.untrained} networks"
        for _, row in trends.iterrows()
    )
    return head + (
        f"In the regime in which networks fit (1/32 of the data for 128 epochs, chosen by the "
        f"study's stage 6), all {len(progress)} networks of the study's stage 7 are measured "
        f"({fit} reach 99 % training accuracy; {appendix}). Its pre-registered trends: "
        f"{series}. Chapter 3's Fig. 1 rule on the study's networks: **{fig1.outcome}** (the "
        f"chapters' networks have the same configurations, trained again: CPU training does not "
        f"repeat bit for bit, so their heatmaps and verdicts may differ). "
        + moved_chapters(notebooks)
    )


def moved_chapters(notebooks: list[Path]) -> str:
    """Which chapters' stored outputs come from the `cpu` profile's regime (their captions print
    its number of epochs) and which from the earlier one, read from the outputs; a chapter whose
    captions list no networks is in neither list."""
    from ckatools.book.profiles import DEFAULTS

    epochs = DEFAULTS["cpu"]["epochs"]
    listed = {  # chapter number: whether its captions print the profile's epochs
        str(int(path.name[:2])): any(r.epochs == epochs for r in captions)
        for path, captions in regimes(notebooks).items()
        if captions  # a chapter whose captions list no networks tells nothing
    }
    moved = [chapter for chapter, now in listed.items() if now]
    earlier = [chapter for chapter, now in listed.items() if not now]
    if not moved:
        return "No chapter's stored outputs come from that regime yet."
    if not earlier:
        return (
            f"Every chapter whose captions list its networks ({', '.join(moved)}) stores outputs "
            "of that regime."
        )
    return (
        f"Of the chapters whose captions list their networks, those whose stored outputs come "
        f"from that regime: {', '.join(moved)}; those of {', '.join(earlier)} come from the "
        "earlier one (1/16 of the data, 15 epochs)."
    )


class RegimeBox(Directive):
    """The book's regime beside the paper's, read from every chapter's provenance captions."""

    def run(self):
        notebooks = chapters(self.state.document.settings.env)
        captions = book_captions(notebooks)
        box = nodes.admonition(classes=["regime-box", "important"])
        box += nodes.title(text="This book's networks beside the paper's")
        rows = regime.book_box(captions) + ["", interim()]
        self.state.nested_parse(StringList(rows), self.content_offset, box)
        return [box]


def add_verdict_anchors(app, doctree) -> None:
    """Give each stored output that prints a verdict line the anchor of its figure."""
    seen = set()
    for node in doctree.findall(lambda n: isinstance(n, (nodes.literal_block, nodes.paragraph))):
        parent, inside_box = node.parent, False
        while parent is not None:
            inside_box |= "result-box" in parent.get("classes", [])
            parent = parent.parent
        if inside_box:
            continue
        for match in re.finditer(r"Verdict \(([^)]+)\)", node.astext()):
            ident = anchor(match[1])
            if ident not in seen:
                seen.add(ident)
                node["ids"].append(ident)


def setup(app):
    app.add_directive("scorecard", Scorecard)
    app.add_directive("result-box", ResultBox)
    app.add_directive("regime", RegimeBox)
    app.connect("doctree-read", add_verdict_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
