"""Sphinx extension: the ``{scorecard}`` directive, a table of every paper claim with the verdict
each chapter printed for it, made from the notebooks' stored outputs when the book is built."""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

from ckatools.verdicts import CLAIMS, LINE

ROOT = Path(__file__).resolve().parents[1]


def outputs_text(notebook: dict) -> str:
    """What a notebook printed or displayed as plain text."""
    return "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for o in cell.get("outputs", [])
    )


def verdicts(notebooks: list[Path]) -> dict[str, tuple[str, str, Path]]:
    """figure -> (outcome, evidence, chapter) for every verdict line in the stored outputs."""
    found = {}
    for path in notebooks:
        for match in LINE.finditer(outputs_text(json.loads(path.read_text()))):
            found[match["figure"]] = (match["outcome"], match["evidence"].strip(), path)
    return found


def profile(notebook: Path) -> str:
    """The profile the stored outputs came from (the setup cell prints 'profile NAME: ...')."""
    text = outputs_text(json.loads(notebook.read_text()))
    return next(
        (line.split()[1].rstrip(":") for line in text.splitlines() if line.startswith("profile ")),
        "?",
    )


class Scorecard(Directive):
    def run(self):
        env = self.state.document.settings.env
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        for path in notebooks:
            env.note_dependency(str(path))
        found = verdicts(notebooks)
        rows = [
            "| figure | the paper's claim | verdict | profile | the numbers that decided it |",
            "|---|---|---|---|---|",
        ]
        for figure in list(CLAIMS) + sorted(set(found) - set(CLAIMS)):
            if figure in found:
                outcome, evidence, path = found[figure]
                link = f"[{figure}](../notebooks/{path.name})"
                rows.append(
                    f"| {link} | {CLAIMS.get(figure, '')} | **{outcome}** | `{profile(path)}` | "
                    f"{evidence.replace('|', '/')} |"
                )
            else:
                rows.append(f"| {figure} | {CLAIMS[figure]} | no chapter yet | | |")
        container = nodes.container()
        self.state.nested_parse(StringList(rows), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("scorecard", Scorecard)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
