"""The book's structure: every notebook is in the table of contents and starts as a chapter should."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _config_value(key: str) -> str:
    return re.search(rf"^\s*{key}:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M).group(1)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no notebooks found"
    for nb in NOTEBOOKS:
        assert f"file: notebooks/{nb.stem}" in toc, f"{nb.name} is missing from _toc.yml"


def test_notebooks_install_from_the_configured_repository_and_set_a_profile():
    url = _config_value("url")
    for nb in NOTEBOOKS:
        code = ["".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "code"]
        assert "google.colab" in code[0] and f"git+{url}" in code[0], f"{nb.name}: first cell must be the Colab install from {url}"
        assert "profiles.active(" in code[1], f"{nb.name}: second code cell must choose the profile"


def test_committed_notebooks_carry_cpu_profile_outputs():
    for nb in NOTEBOOKS:
        code = [c for c in _cells(nb) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        assert sum(bool(c["outputs"]) for c in code) >= len(code) // 2, f"{nb.name} has no stored outputs"
        text = json.dumps(code[1]["outputs"])
        assert "profile cpu" in text, f"{nb.name}: stored outputs must come from the cpu profile"
