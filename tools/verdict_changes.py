"""Which verdicts a re-execution changed: the verdict lines stored in a commit's notebooks against
the working tree's, each gated as the book gates it (``_ext/scorecard.verdicts``), as a Markdown
table for a session note or an issue.

    python tools/verdict_changes.py [REV]    # default HEAD
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import scorecard  # noqa: E402  (the book's own reader of verdict lines)


def stored(rev: str, folder: Path) -> list[Path]:
    """The notebooks of commit ``rev``, written into ``folder``."""
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "notebooks/"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    paths = []
    for name in (n for n in listing if n.endswith(".ipynb")):
        text = subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        path = folder / Path(name).name
        path.write_bytes(text)
        paths.append(path)
    return paths


def shown(found: tuple[str, str, Path, str] | None) -> str:
    """An outcome as the scorecard shows it, or a dash where no chapter printed one."""
    return "-" if found is None else scorecard.shown(found[0], found[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = scorecard.verdicts(stored(args.rev, Path(folder)))
    now = scorecard.verdicts(sorted((ROOT / "notebooks").glob("*.ipynb")))
    figures = sorted(set(before) | set(now))
    changed = [f for f in figures if shown(before.get(f)) != shown(now.get(f))]
    print(f"| figure | chapter | {args.rev} | working tree |\n|---|---|---|---|")
    for figure in changed:
        chapter = (now.get(figure) or before[figure])[2].stem
        print(f"| {figure} | {chapter} | {shown(before.get(figure))} | {shown(now.get(figure))} |")
    print(f"\n{len(changed)} changed, {len(figures) - len(changed)} unchanged")


if __name__ == "__main__":
    main()
