"""The package installs what it imports: pip builds and installs the repository into a fresh
virtual environment, its dependencies are exactly what pip resolves from pyproject.toml (at the
versions of constraints.txt), and every module of ckatools imports there.

Copying PyTorch into a new environment takes minutes, so the dependencies are not copied: pip
resolves them (``--dry-run --report``), and each distribution it would install is linked into
the fresh environment from this one, file by file at the top level of site-packages, after
checking that this environment holds the version pip chose. Nothing else is visible there, so
an undeclared dependency still fails to import, as it would for a user.
"""

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


def _resolve(python: str, folder: Path) -> dict[str, str]:
    """What pip would install for the repository, as {distribution name: version}."""
    report = folder / "report.json"
    pip = [python, "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt")]
    subprocess.run(
        [*pip, "--dry-run", "--ignore-installed", "--report", str(report), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    items = json.loads(report.read_text())["install"]
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in items}


def _link(name: str, version: str, site: Path) -> None:
    """Link the files of this environment's distribution ``name`` into ``site`` (top level)."""
    dist = importlib.metadata.distribution(name)
    assert dist.version == version, (
        f"{name} {dist.version} is installed here, but pip resolves {version} from "
        "constraints.txt: rebuild the environment (make)"
    )
    here = Path(dist.locate_file(""))
    tops = {Path(f).parts[0] for f in dist.files or () if not str(f).startswith("..")}
    for top in tops - {"__pycache__"}:
        target = site / top
        if not target.exists():  # namespace folders (nvidia/) are shared by several
            target.symlink_to(here / top)


@pytest.mark.slow  # deselect with -m "not slow" while developing; make test runs it
def test_a_fresh_pip_install_imports_every_module():
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        venv.create(folder, with_pip=True)
        python = str(folder / "bin" / "python")
        resolved = _resolve(python, folder)
        assert resolved.pop("ckatools") == "0.1.0"
        site = Path(
            subprocess.run(
                [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        assert site != Path(sysconfig.get_paths()["purelib"])
        for dist, version in resolved.items():
            _link(dist, version, site)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        # run outside the repository, so that its ckatools/ folder cannot stand in for the
        # installed package
        run = subprocess.run([python, "-c", IMPORT_ALL], cwd=folder, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr  # e.g. No module named ... (undeclared)
        out = run.stdout.split()
    package = ROOT / "ckatools"
    modules = [
        p
        for p in package.rglob("*.py")
        if p.stem != "__main__" and (p.parent != package or p.stem != "__init__")
    ]
    assert int(out[0]) == len(modules)  # every module and subpackage installed and importable
    assert int(out[1]) == len(list((package / "study" / "results").glob("*.npz")))
    assert out[2].startswith(name) and sys.prefix not in out[2]
