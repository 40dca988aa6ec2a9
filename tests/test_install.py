"""The package installs what it imports: pip installs the repository into a fresh virtual
environment (the versions of constraints.txt), and every module of ckatools imports there.

Slow (about two minutes: PyTorch is copied into the new environment from pip's cache), and run
by `make test` all the same, since a missing dependency only shows in a fresh environment.
"""

import subprocess
import sys
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


@pytest.mark.slow  # deselect with -m "not slow" while developing; make test runs it
def test_a_fresh_pip_install_imports_every_module():
    with tempfile.TemporaryDirectory() as folder:  # removed at once: the environment is GBs
        venv.create(folder, with_pip=True)
        python = str(Path(folder) / "bin" / "python")
        pip = [python, "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt")]
        subprocess.run([*pip, str(ROOT)], check=True, capture_output=True, timeout=1800)
        # run outside the repository, so that its ckatools/ folder cannot stand in for the
        # installed package
        out = subprocess.run(
            [python, "-c", IMPORT_ALL], cwd=folder, check=True, capture_output=True, text=True
        ).stdout.split()
    package = ROOT / "ckatools"
    modules = [
        p
        for p in package.rglob("*.py")
        if p.stem != "__main__" and (p.parent != package or p.stem != "__init__")
    ]
    assert int(out[0]) == len(modules)  # every module and subpackage installed and importable
    assert int(out[1]) == len(list((package / "study" / "results").glob("*.npz")))
    assert out[2].startswith(folder) and sys.prefix not in out[2]
