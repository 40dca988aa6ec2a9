"""The no-training path: trained networks packed into one file, installed into another cache.

``pack(configs, path)`` writes one tar file holding each network's cache entry (its weights, the
within-model CKA matrices cached beside them and Chapter 10's snapshots of its training) and a
manifest: each network's configuration and each file's SHA-256. Both ends check every file:
``pack`` refuses an entry whose files fail their own checksum (:mod:`ckatools.storage`) or
whose weights hold another configuration, and ``install(path)`` checks the manifest's digest,
the file's own checksum and the configuration again before anything lands in the cache. A file
that fails names itself and nothing is installed. Each network then goes into its entry folder
under the entry's lock, its weights first (the entry is complete from then on; the CKA
matrices and snapshots after it are caches of those weights); a network the cache already holds
is kept as it is, and an entry that holds something else is replaced whole.

    python -m ckatools pack cpu networks.tar      # what the cpu profile trains, from this cache
    python -m ckatools install networks.tar       # into this machine's cache: no training
    python -m ckatools install networks/cpu       # every bundle of a folder (the repository's)
    python -m ckatools install https://.../networks.tar   # a release file: downloaded first
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

from ckatools import storage
from ckatools.data import cache_dir
from ckatools.training import zoo
from ckatools.training.config import TrainConfig

__all__ = ["MANIFEST", "pack", "install", "contents", "fetch"]

MANIFEST = "manifest.json"
BUNDLE_FORMAT = 1


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry_files(folder: Path) -> list[Path]:
    """The files of a finished entry that a bundle carries: everything ckatools stored in it
    (``*.pt``, snapshots included) but the checkpoints of unfinished runs."""
    return sorted(
        f for f in folder.rglob("*.pt") if "checkpoint" not in f.name and not f.name.startswith(".")
    )


def _verified(data: bytes, where: str, name: str, config: TrainConfig) -> None:
    """Raise ValueError naming ``where`` unless the stored file's bytes pass their own checksum
    and, for the weights, hold the network of ``config``."""
    try:
        stored = storage.loads(data, where)
    except storage.CorruptFile as error:
        raise ValueError(f"{where}: fails its own checksum ({error})") from error
    if name == "model.pt" and not zoo.holds(stored, config):
        raise ValueError(f"{where}: holds another configuration than {zoo.describe(config)}")


def pack(configs, path: Path) -> Path:
    """Write the cache entries of ``configs`` (every one must be cached, and is checked) to the
    tar file ``path`` (atomically); returns it. Partial runs' checkpoints are left out."""
    configs = list(dict.fromkeys(configs))
    missing = [zoo.describe(c) for c in configs if not zoo.cached(c)]
    if missing:
        raise ValueError(f"{len(missing)} networks are not in the cache: {'; '.join(missing)}")
    path = Path(path)
    entries = []
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tarfile.open(tmp, "w") as tar:
            for config in configs:
                folder = zoo.entry_dir(config)
                files = {}
                for file in _entry_files(folder):
                    name = file.relative_to(folder).as_posix()
                    data = file.read_bytes()
                    _verified(data, str(file), name, config)
                    files[name] = _digest(data)
                    info = tarfile.TarInfo(f"{folder.name}/{name}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                entries.append(
                    dict(folder=folder.name, config=dataclasses.asdict(config), files=files)
                )
            manifest = dict(format=BUNDLE_FORMAT, entries=entries)
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def contents(path: Path) -> list[TrainConfig]:
    """The networks a bundle holds, from its manifest."""
    path = Path(path)
    with _open(path) as tar:
        return [config for config, _ in _manifest(tar, path)]


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path)
    except tarfile.TarError as error:
        raise ValueError(f"{path}: not a ckatools bundle (not a tar file)") from error


def _manifest(tar: tarfile.TarFile, path: Path) -> list[tuple[TrainConfig, dict]]:
    """Each entry of the bundle's manifest with its configuration; a ValueError for anything
    that is not a manifest this version wrote."""
    try:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
        if manifest.get("format") != BUNDLE_FORMAT:
            raise ValueError(f"bundle format {manifest.get('format')}, not {BUNDLE_FORMAT}")
        found = []
        for entry in manifest["entries"]:
            config = TrainConfig(**entry["config"])
            if not isinstance(entry["files"], dict) or not isinstance(entry["folder"], str):
                raise ValueError("an entry without its folder and files")
            found.append((config, entry))
        return found
    except (KeyError, AttributeError, TypeError, ValueError, tarfile.TarError) as error:
        raise ValueError(f"{path}: not a ckatools bundle ({MANIFEST}: {error})") from error


def _safe_name(name: str) -> bool:
    """A file name a bundle may write inside an entry: ``model.pt``, ``cka-*.pt`` or
    ``snapshots/epoch-N.pt``; never absolute, hidden or climbing out."""
    parts = name.split("/")
    return (
        name.endswith(".pt")
        and len(parts) <= 2
        and all(p and not p.startswith(".") for p in parts)
        and (len(parts) == 1 or parts[0] == "snapshots")
    )


def _checked(tar: tarfile.TarFile, path: Path, entry: dict, config: TrainConfig) -> dict:
    """The entry's files as bytes, each checked against the manifest, its own checksum and (the
    weights) the configuration; a ValueError names the first file that fails."""
    found = {}
    for name, digest in entry["files"].items():
        where = f"{path}: {entry['folder']}/{name}"
        if not _safe_name(name):
            raise ValueError(f"{where}: not a cache file name")
        try:
            data = tar.extractfile(f"{entry['folder']}/{name}").read()
        except (KeyError, AttributeError, tarfile.TarError) as error:
            raise ValueError(f"{where}: missing from the bundle") from error
        if _digest(data) != digest:
            raise ValueError(f"{where}: fails the manifest's SHA-256 (damaged in transit?)")
        _verified(data, where, name, config)
        found[name] = data
    if "model.pt" not in found:
        raise ValueError(f"{path}: {entry['folder']} has no weights (model.pt)")
    return found


def fetch(source: str | Path) -> Path:
    """A bundle as a local file: ``source`` itself, or, for a URL (``https://``, ``file://``),
    a download into the cache folder (atomically; :func:`install` checks it)."""
    text = str(source)
    if "://" not in text:
        return Path(source)
    import urllib.parse
    import urllib.request

    name = Path(urllib.parse.urlparse(text).path).name
    if name in ("", ".", "..") or name.startswith("."):
        name = "networks.tar"
    folder = cache_dir() / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    try:
        urllib.request.urlretrieve(text, tmp)
        os.replace(tmp, path)
    except Exception as error:
        raise ValueError(f"could not download {text}: {error}") from error
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _holds(config: TrainConfig) -> bool:
    """Whether the cache already holds a sound entry of ``config`` (its weights pass their
    checksum and hold this configuration)."""
    try:
        return zoo.holds(storage.load(zoo.entry_dir(config) / "model.pt"), config)
    except (FileNotFoundError, storage.CorruptFile):
        return False


def _bundle_files(path: Path) -> list[tuple[TrainConfig, dict]]:
    """Each network of the bundle ``path`` with its files as bytes, every one checked."""
    with _open(path) as tar:
        checked = []
        for config, entry in _manifest(tar, path):
            if zoo.entry_dir(config).name != entry["folder"]:
                raise ValueError(
                    f"{path}: {entry['folder']} is not the cache folder of {zoo.describe(config)}"
                )
            checked.append((config, _checked(tar, path, entry, config)))
    return checked


def install(path: Path | str) -> dict[TrainConfig, bool]:
    """Install a bundle's networks into the cache, or those of every bundle (``*.tar``) in the
    folder ``path`` (such as the repository's ``networks/cpu``); returns each configuration with
    True where it was installed now (False: the cache held it already). Everything is checked
    first: on a ValueError naming the failing file, nothing was installed. A network another
    process is training now is waited for (the entry's lock), with a message."""
    path = fetch(path)
    paths = sorted(path.glob("*.tar")) if path.is_dir() else [path]
    if not paths:
        raise ValueError(f"{path}: a folder with no bundle (*.tar) in it")
    checked = [found for p in paths for found in _bundle_files(p)]
    done = {}
    for config, files in checked:
        folder = zoo.entry_dir(config)
        zoo.claim(folder, config)
        waiting = functools.partial(print, f"waiting for another process: {zoo.describe(config)}")
        with storage.locked(folder, on_wait=waiting):
            done[config] = not _holds(config)
            if not done[config]:
                continue
            for stale in _entry_files(folder):  # another network's caches: not these weights'
                stale.unlink()
            for name in sorted(files, key=lambda n: n != "model.pt"):  # the weights first
                storage.write_bytes(files[name], folder / name)
    return done
