"""Point the book at its published repository: python tools/set_repository.py URL

The address is kept in _config.yml (repository.url: the rocket and repository buttons); this
writes the same address into every chapter's Colab install cell and the README, which a test
(tests/test_book.py) checks against _config.yml.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(url: str) -> None:
    config = ROOT / "_config.yml"
    old = re.search(r"^  url: (\S+)$", config.read_text(), re.M)[1]
    config.write_text(config.read_text().replace(f"  url: {old}", f"  url: {url}"))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            cell["source"] = [line.replace(old, url) for line in cell["source"]]
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    for page in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        page.write_text(page.read_text().replace(old, url))
    print(f"repository: {old} -> {url}")


if __name__ == "__main__":
    main(sys.argv[1])
