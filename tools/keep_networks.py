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

from ckatools import storage
from ckatools.data import cache_dir
from ckatools.training import TrainConfig, bundle, zoo

ROOT = Path(__file__).resolve().parent.parent / "networks"


def _finished() -> list[TrainConfig]:
    """Every network of the cache whose weights pass their checksum, in its own folder."""
    found = []
    for entry in zoo.entries():
        config = None if entry["config"] is None else TrainConfig(**entry["config"])
        if config is not None and Path(entry["path"]) == zoo.entry_dir(config):
            found.append(config)
        else:
            print(f"skipped {entry['path']}: not a sound entry of this version's cache")
    return found


def _unfinished() -> list[tuple[Path, list[Path]]]:
    """Each cache folder without weights but with a checkpoint, and its checkpoint files."""
    root = cache_dir() / "models"
    found = []
    for folder in sorted(root.glob("*")) if root.exists() else []:
        checkpoints = sorted(folder.glob("*checkpoint.pt"))
        if (folder / zoo.MARKER).is_file() and not (folder / "model.pt").exists() and checkpoints:
            found.append((folder, checkpoints))
    return found


def _epoch(path: Path) -> int:
    """The epochs a checkpoint has trained (-1: unreadable, or none there)."""
    try:
        return storage.load(path)["state"]["epoch"]
    except (FileNotFoundError, storage.CorruptFile, KeyError, TypeError):
        return -1


def save(root: Path) -> None:
    """Write each finished network of the cache that is new or changed to ``root/cpu``, and
    the checkpoints of unfinished runs to ``root/partial``. A kept checkpoint is dropped only
    once its network is kept finished, and replaced only by one at a later epoch: a ``save``
    from a cache that lacks it (a fresh machine before ``restore``) loses nothing."""
    kept, partial = root / "cpu", root / "partial"
    kept.mkdir(parents=True, exist_ok=True)
    written = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for config in _finished():
            target = kept / f"{zoo.entry_dir(config).name}.tar"
            try:
                fresh = bundle.pack([config], Path(tmp) / target.name)
            except ValueError as error:
                print(f"not kept: {error}")
                failed += 1
                continue
            data = fresh.read_bytes()
            if not target.exists() or target.read_bytes() != data:
                storage.write_bytes(data, target)
                written += 1
    for saved in sorted(partial.glob("*")):
        if (kept / f"{saved.name}.tar").exists():
            shutil.rmtree(saved)
    runs = 0
    for folder, checkpoints in _unfinished():
        for file in checkpoints:
            target = partial / folder.name / file.name
            try:
                newer = _epoch(file) > _epoch(target)
                data = (folder / zoo.MARKER).read_bytes(), file.read_bytes()
            except FileNotFoundError:  # it finished while we looked
                continue
            if newer:
                storage.write_bytes(data[0], target.with_name(zoo.MARKER))
                storage.write_bytes(data[1], target)
                runs += 1
    print(f"{written} bundles written to {kept} ({failed} not kept); {runs} checkpoints kept")


def restore(root: Path) -> None:
    """Install every bundle of ``root/cpu`` (each checked; one that fails is reported and the
    others still land) and put each kept checkpoint back where the cache has no finished
    network and no checkpoint at a later epoch."""
    installed = 0
    for path in sorted((root / "cpu").glob("*.tar")):
        try:
            installed += sum(bundle.install(path).values())
        except ValueError as error:
            print(f"not installed: {error}")
    resumed = 0
    for saved in sorted((root / "partial").glob("*")):
        config = TrainConfig(**json.loads((saved / zoo.MARKER).read_text())["config"])
        folder = zoo.entry_dir(config)
        if folder.name != saved.name or (folder / "model.pt").exists():
            continue
        zoo.claim(folder, config)
        for file in saved.glob("*checkpoint.pt"):
            if _epoch(file) > _epoch(folder / file.name):
                storage.write_bytes(file.read_bytes(), folder / file.name)
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
