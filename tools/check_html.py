"""Look at the built book as a reader would: every page in headless Chromium, offline.

For each chapter and page of the table of contents it saves two full-page screenshots under
``_build/screenshots/``, one per width in SHOTS (``<page>-800px.png``, the width the layout is
checked at, and ``<page>-1400px.png``), and reports, from the DOM after JavaScript ran in a window
WINDOW px wide:
figures (inline images and ones whose file is missing), static sliders and their frames, math that
MathJax left unrendered, figures too small to read, figures without a description or a link to
their full size (``_static/figures.js`` adds both) and tables wider than the text column that do
not scroll. A figure is read from its PNG: the font record ckatools.page writes when it saves one
(its dpi and smallest font), scaled to the width the page shows it at, must be at least
ckatools.page.MIN_PT, and its narrowest heatmap panel (recorded since 5 December 2026) at least
ckatools.page.MIN_HEATMAP_PX wide. Exit status 1 when a page has any of these problems.

To rerun it on the built book (``make book`` first), or build and check in one step:

    python tools/check_html.py [_build/html]
    make check-html

Needs Chromium (Debian: apt-get install chromium).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ckatools.page import legibility

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
WINDOW = 800  # px: the narrow window figures and tables are checked in (a laptop's half screen)
SHOTS = (WINDOW, 1400)  # px: the widths of each page's screenshots, narrow and wide
NOT_FIGURES = "_static/"  # the theme's icons (the Colab logo): no font record to read
# Added to a copy of each page: once it has loaded, the widths the checks need, as JSON in a <pre>.
REPORT = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const article = document.querySelector("article.bd-article");
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft)
    - parseFloat(style.paddingRight);
  const scrolls = (e) => {
    for (; e && e !== article; e = e.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(e).overflowX)) return true;
    }
    return false;
  };
  const report = {
    column,
    images: [...document.images].map(
      (i) => [i.getAttribute("src") || "", i.naturalWidth, i.getBoundingClientRect().width,
              i.alt, i.closest("a") !== null]),
    tables: [...article.querySelectorAll("table")].map(
      (t) => [t.getBoundingClientRect().width, scrolls(t.parentElement)]),
  };
  const pre = document.createElement("pre");
  pre.id = "page-report";
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
}, 1000));
</script>"""


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


def reported(page: Path) -> tuple[str, dict]:
    """The DOM of a page after JavaScript ran in a WINDOW px wide window, and its REPORT."""
    text = page.read_text()
    text = text.replace("<head>", f'<head><base href="{page.parent.as_uri()}/">', 1)
    text = text.replace("</body>", REPORT + "</body>", 1)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder, page.name)
        copy.write_text(text)
        dom = chromium(f"--window-size={WINDOW},3000", "--dump-dom", copy.as_uri())
    found = re.search(r'<pre id="page-report">(.*?)</pre>', dom, re.S)
    return dom, json.loads(html.unescape(found.group(1))) if found else {}


def image_bytes(page: Path, src: str) -> bytes | None:
    """An image's file or inline data; None for one that is missing (reported apart)."""
    if src.startswith("data:"):
        return base64.b64decode(src.partition(",")[2])
    path = page.parent / src.split("#")[0]
    return path.read_bytes() if path.exists() else None


def layout_problems(page: Path, report: dict) -> list[str]:
    """Figures too small to read at the width the page shows them, and tables wider than the
    column that do not scroll."""
    if not report:
        return ["the page did not report its layout"]
    column, problems = report["column"], []
    inline = 0
    for src, natural, rendered, *described in report["images"]:
        if not src or src.startswith("http") or NOT_FIGURES in src:
            continue
        inline += src.startswith("data:")
        name = f"inline figure {inline}" if src.startswith("data:") else Path(src).name
        alt, linked = described or ("", False)
        if not src.startswith("data:") and (not alt or alt.endswith(".png") or not linked):
            problems.append(f"{name}: no description, or not a link to its full size")
        data = image_bytes(page, src)
        if data is None:  # a missing file: check() reports it
            continue
        shown = rendered or min(natural, column)  # one hidden (a folded cell) shows this wide
        problem = legibility(data, shown)
        if problem:
            problems.append(f"{name}: {problem}")
    for width, scrolls in report["tables"]:
        if width > column + 1 and not scrolls:
            problems.append(f"a table {width:.0f} px wide in a {column:.0f} px column, no scroll")
    return problems


def check(page: Path, shots: Path) -> list[str]:
    """Problems found on one page; saves its screenshots, one per width in SHOTS."""
    dom, report = reported(page)
    shots.mkdir(parents=True, exist_ok=True)
    for width in SHOTS:
        shot = shots / f"{page.stem}-{width}px.png"
        chromium(f"--screenshot={shot}", f"--window-size={width},9000", page.as_uri())
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
    problems += layout_problems(page, report)
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
