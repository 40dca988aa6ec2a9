"""Look at the built book as a reader would: every page in headless Chromium, offline.

For each chapter and page of the table of contents it saves a full-page screenshot under
``_build/screenshots/`` and reports, from the DOM after JavaScript ran: figures (inline images
and ones whose file is missing), static sliders and their frames, and math that MathJax left
unrendered. Exit status 1 when a page has a missing image, a slider without frames or raw math.

    python tools/check_html.py [_build/html]     (make check-html builds the book first)

Needs Chromium (Debian: apt-get install chromium).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)


def pages(html: Path) -> list[Path]:
    """The built pages of the table of contents, in reading order."""
    toc = (ROOT / "_toc.yml").read_text()
    names = re.findall(r"(?:root|file):\s*(\S+)", toc)
    return [html / f"{name}.html" for name in names if (html / f"{name}.html").exists()]


def chromium(*args: str) -> str:
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--virtual-time-budget=15000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180).stdout


def check(page: Path, shots: Path) -> list[str]:
    """Problems found on one page; saves its screenshot."""
    dom = chromium("--dump-dom", page.as_uri())
    shots.mkdir(parents=True, exist_ok=True)
    chromium(
        f"--screenshot={shots / (page.stem + '.png')}", "--window-size=1400,9000", page.as_uri()
    )
    problems = []
    sources = re.findall(r'<img[^>]*\bsrc="([^"]+)"', dom)
    inline = [s for s in sources if s.startswith("data:image")]
    files = [s for s in sources if not s.startswith(("data:", "http"))]
    missing = [s for s in files if not (page.parent / s.split("#")[0]).exists()]
    problems += [f"missing image file {s}" for s in missing]
    sliders = dom.count('class="animation"')
    frames = len(re.findall(r"frames\[\d+\] = ", dom))
    if sliders and not frames:
        problems.append(f"{sliders} slider(s) without frames")
    rendered = dom.count("<mjx-container")
    raw = len(re.findall(r"\\\(|\\\[|\$\$", re.sub(r"<script.*?</script>", "", dom, flags=re.S)))
    if raw and not rendered:
        problems.append(f"{raw} math expressions left unrendered (MathJax did not run)")
    print(
        f"{page.relative_to(page.parents[1])}: {len(inline)} inline figures, "
        f"{len(files)} image files, "
        f"{sliders} sliders ({frames} frames), {rendered} rendered formulas"
        + ("" if not problems else " -- " + "; ".join(problems))
    )
    return problems


def main(argv: list[str]) -> int:
    html = (Path(argv[0]) if argv else ROOT / "_build" / "html").resolve()
    if BROWSER is None:
        print("no Chromium found: apt-get install chromium")
        return 1
    found = pages(html)
    if not found:
        print(f"no built pages under {html}: run make book first")
        return 1
    problems = [p for page in found for p in check(page, html.parent / "screenshots")]
    shots = html.parent / "screenshots"
    print(f"{len(found)} pages, {len(problems)} problems; screenshots in {shots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
