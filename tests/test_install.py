"""The package installs what it imports: pip builds and installs the repository into a fresh
virtual environment, its dependencies are exactly what pip resolves from pyproject.toml (at the
versions of constraints.txt), and every module of ckatools imports there.

Copying PyTorch into a new environment takes minutes, so the dependencies are not copied: pip
resolves them (``--dry-run --report``), and each distribution it would install is linked into
the fresh environment (which has no pip or setuptools of its own) from this one, file by file,
after checking that this environment holds the version pip chose. Nothing else is visible there,
so an undeclared dependency still fails to import, as it would for a user; a control checks that
pytest, which is no dependency, does not import there. Imports inside functions (pandas, in
ckatools) are found in the source and looked up there too.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT_ALL = """
import importlib, pkgutil, ckatools
from ckatools import study
names = [m.name for m in pkgutil.walk_packages(ckatools.__path__, "ckatools.")]
names = [n for n in names if not n.endswith("__main__")]  # importing one runs its command
for name in names:
    importlib.import_module(name)
print(len(names), len(study.load_results()), ckatools.__file__)
"""


_PIP = [sys.executable, "-m", "pip"]  # this environment's pip, installing into another


def _run(python: str, code: str, cwd: Path | None = None) -> str:
    """Run ``code`` in the fresh environment's Python, isolated; its output, or its error."""
    run = subprocess.run([python, "-I", "-c", code], cwd=cwd, capture_output=True, text=True)
    if run.returncode:  # e.g. No module named ... (an undeclared dependency)
        raise subprocess.CalledProcessError(run.returncode, code, run.stdout, run.stderr)
    return run.stdout.strip()


# Imports of ckatools that no requirement covers, each with its reason: the test checks the others.
OPTIONAL = {
    "google": "google.colab, Colab's own module, imported only on Colab (ckatools.book.colab)",
    "submitit": "the cluster extra (pip install ckatools[cluster]), imported by --engine",
}


def _imported_names() -> set[str]:
    """The top-level modules ckatools imports anywhere, inside functions too (a lazy import of an
    undeclared package passes the import of every module, and fails a user later)."""
    names = set()
    for path in (ROOT / "ckatools").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"ckatools"} - set(OPTIONAL)


def _resolve(python: str, folder: Path) -> dict[str, str]:
    """What pip would install for the repository, as {distribution name: version}."""
    report = folder / "report.json"
    subprocess.run(
        [*_PIP, "--python", python, "install", "-q", "-c", str(ROOT / "constraints.txt")]
        + ["--dry-run", "--ignore-installed", "--report", str(report), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    items = json.loads(report.read_text())["install"]
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in items}


def _link(name: str, version: str, site: Path) -> None:
    """Link each file of this environment's distribution ``name`` into ``site``, folders made
    anew, so that a folder shared by several distributions (nvidia/) shows only theirs."""
    dist = importlib.metadata.distribution(name)
    assert dist.version == version, (
        f"{name} {dist.version} is installed here, but pip resolves {version} from "
        "constraints.txt: rebuild the environment (make)"
    )
    assert dist.files, f"{name} lists no files: cannot tell what it installs"
    for file in dist.files:
        source = Path(dist.locate_file(file))
        if str(file).startswith("..") or file.suffix == ".pyc":
            continue  # scripts in bin/, and bytecode Python writes again
        assert source.exists(), f"{name} lists {file}, which is not here"
        target = site / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)


@pytest.mark.slow  # deselect with -m "not slow" while developing; make test runs it
def test_a_fresh_pip_install_imports_every_module():
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        venv.create(folder, with_pip=False)  # empty: no pip or setuptools of its own
        python = str(folder / "bin" / "python")
        resolved = _resolve(python, folder)
        assert resolved.pop("ckatools") == "0.1.0"
        site = Path(_run(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
        assert site != Path(sysconfig.get_paths()["purelib"])
        for dist, version in resolved.items():
            _link(dist, version, site)
        subprocess.run(
            [*_PIP, "--python", python, "install", "-q", "--no-deps", str(ROOT)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        with pytest.raises(subprocess.CalledProcessError):  # the control: pytest is no dependency
            _run(python, "import pytest")
        # isolated (-I) and outside the repository, so that neither PYTHONPATH nor its
        # ckatools/ folder can stand in for the installed package
        out = _run(python, IMPORT_ALL, cwd=folder).split()
        imported = sorted(_imported_names())
        found = "import importlib.util as u; print([n for n in {!r} if u.find_spec(n) is None])"
        assert _run(python, found.format(imported)) == "[]"  # each imported module is installed
    package = ROOT / "ckatools"
    modules = [
        p
        for p in package.rglob("*.py")
        if p.stem != "__main__" and (p.parent != package or p.stem != "__init__")
    ]
    assert int(out[0]) == len(modules)  # every module and subpackage installed and importable
    assert int(out[1]) == len(list((package / "study" / "results").glob("*.npz")))
    assert out[2].startswith(name) and sys.prefix not in out[2]
