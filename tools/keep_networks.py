"""Keep this cache's trained networks in the repository, and put them back into a cache.

A development machine of this project keeps nothing but the repository between sessions, and
the `cpu` profile is many hours of training on two cores: without this, every session would
start training from nothing. ``save`` writes each finished network of the cache as its own
bundle (``ckatools.training.bundle``: every file checked, with a manifest of SHA-256 digests) to
``networks/cpu/<entry>.tar``, one file per network so that a network already kept is not
written again (a bundle's bytes depend only on the entry's files), and copies the checkpoint of
each unfinished run (with the entry's marker) to ``networks/partial/<entry>/``. ``restore``
installs every bundle (checked again; a network the cache holds is kept) and puts each
checkpoint back where the cache has no finished network, so ``prepare`` resumes it (a checkpoint
that fails its checksum is discarded there and training restarts).

    python tools/keep_networks.py save       # after training, before committing
    python tools/keep_networks.py restore    # on a fresh machine, before training
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from ckatools.data import cache_dir
from ckatools.training import TrainConfig, bundle, zoo

ROOT = Path(__file__).resolve().parent.parent / "networks"


def _finished() -> list[TrainConfig]:
    """Every network of the cache whose weights pass their checksum."""
    return [TrainConfig(**e["config"]) for e in zoo.entries() if e["config"] is not None]


def _unfinished() -> list[tuple[Path, list[Path]]]:
    """Each cache folder without weights but with a checkpoint, and its checkpoint files."""
    root = cache_dir() / "models"
    found = []
    for folder in sorted(root.glob("*")) if root.exists() else []:
        checkpoints = sorted(folder.glob("*checkpoint.pt"))
        if (folder / zoo.MARKER).is_file() and not (folder / "model.pt").exists() and checkpoints:
            found.append((folder, checkpoints))
    return found


def save(root: Path) -> None:
    kept, partial = root / "cpu", root / "partial"
    kept.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.TemporaryDirectory() as tmp:
        for config in _finished():
            target = kept / f"{zoo.entry_dir(config).name}.tar"
            fresh = bundle.pack([config], Path(tmp) / target.name)
            if not target.exists() or target.read_bytes() != fresh.read_bytes():
                shutil.copyfile(fresh, target)
                written += 1
    shutil.rmtree(partial, ignore_errors=True)
    for folder, checkpoints in _unfinished():
        (partial / folder.name).mkdir(parents=True)
        for file in [folder / zoo.MARKER, *checkpoints]:
            shutil.copyfile(file, partial / folder.name / file.name)
    print(f"{written} bundles written to {kept}; {len(_unfinished())} unfinished runs kept")


def restore(root: Path) -> None:
    bundles = root / "cpu"
    installed = sum(bundle.install(bundles).values()) if any(bundles.glob("*.tar")) else 0
    resumed = 0
    for saved in sorted((root / "partial").glob("*")):
        marker = json.loads((saved / zoo.MARKER).read_text())
        folder = zoo.entry_dir(TrainConfig(**marker["config"]))
        if folder.name != saved.name or (folder / "model.pt").exists():
            continue
        zoo.claim(folder, TrainConfig(**marker["config"]))
        for file in saved.glob("*checkpoint.pt"):
            if not (folder / file.name).exists():
                shutil.copyfile(file, folder / file.name)
                resumed += 1
    print(f"{installed} networks installed, {resumed} checkpoints put back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "restore"))
    parser.add_argument("--root", type=Path, default=ROOT, help=f"default: {ROOT}")
    args = parser.parse_args()
    (save if args.action == "save" else restore)(args.root)


if __name__ == "__main__":
    main()
