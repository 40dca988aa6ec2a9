"""The no-training path: trained networks packed into one file, installed into another cache.

``pack(configs, path)`` writes one tar file holding each network's cache entry (its weights and
the within-model CKA matrices cached beside them) and a manifest: each network's configuration
and each file's SHA-256. ``install(path)`` checks everything before anything lands in the
cache: the manifest's digest of every file, the cache's own checksum inside every file
(:mod:`ckatools.storage`) and that each entry holds the configuration it is filed under. A file
that fails names itself and nothing is installed. Each network then goes into its entry folder
under the entry's lock, weights last, so a reader sees a complete entry or none; a network the
cache already holds is kept as it is.

    python -m ckatools pack cpu networks.tar      # what the cpu profile trains, from this cache
    python -m ckatools install networks.tar       # into this machine's cache: no training
    python -m ckatools install https://.../networks.tar   # a release file: downloaded first
"""

from __future__ import annotations

import dataclasses
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


def pack(configs, path: Path) -> Path:
    """Write the cache entries of ``configs`` (every one must be cached) to the tar file ``path``
    (atomically); returns it. Partial runs' checkpoints are left out."""
    configs = list(dict.fromkeys(configs))
    missing = [zoo.describe(c) for c in configs if not zoo.cached(c)]
    if missing:
        raise ValueError(f"{len(missing)} networks are not in the cache: {'; '.join(missing)}")
    path = Path(path)
    entries = []
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tarfile.open(tmp, "w") as tar:
        for config in configs:
            folder = zoo.entry_dir(config)
            files = {}
            for file in sorted(folder.glob("*.pt")):
                if "checkpoint" in file.name:
                    continue
                data = file.read_bytes()
                files[file.name] = _digest(data)
                info = tarfile.TarInfo(f"{folder.name}/{file.name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            entries.append(dict(folder=folder.name, config=dataclasses.asdict(config), files=files))
        manifest = json.dumps(dict(format=BUNDLE_FORMAT, entries=entries), indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    os.replace(tmp, path)
    return path


def contents(path: Path) -> list[TrainConfig]:
    """The networks a bundle holds, from its manifest."""
    with tarfile.open(path) as tar:
        return [TrainConfig(**e["config"]) for e in _manifest(tar, Path(path))["entries"]]


def _manifest(tar: tarfile.TarFile, path: Path) -> dict:
    try:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as error:
        raise ValueError(f"{path}: not a ckatools bundle (no readable {MANIFEST})") from error
    if manifest.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{path}: bundle format {manifest.get('format')}, not {BUNDLE_FORMAT}")
    return manifest


def _checked(tar: tarfile.TarFile, path: Path, entry: dict, config: TrainConfig) -> dict:
    """The entry's files as bytes, each checked against the manifest, its own checksum and (the
    weights) the configuration; a ValueError names the first file that fails."""
    found = {}
    for name, digest in entry["files"].items():
        where = f"{path}: {entry['folder']}/{name}"
        if "/" in name or name.startswith(".") or not name.endswith(".pt"):
            raise ValueError(f"{where}: not a cache file name")
        try:
            data = tar.extractfile(f"{entry['folder']}/{name}").read()
        except (KeyError, AttributeError, tarfile.TarError) as error:
            raise ValueError(f"{where}: missing from the bundle") from error
        if _digest(data) != digest:
            raise ValueError(f"{where}: fails the manifest's SHA-256 (damaged in transit?)")
        try:
            stored = storage.loads(data, where)
        except storage.CorruptFile as error:
            raise ValueError(f"{where}: fails its own checksum ({error})") from error
        if name == "model.pt" and not zoo.holds(stored, config):
            raise ValueError(f"{where}: holds another configuration than {zoo.describe(config)}")
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

    folder = cache_dir() / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (Path(urllib.parse.urlparse(text).path).name or "networks.tar")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        urllib.request.urlretrieve(text, tmp)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"could not download {text}: {error}") from error
    os.replace(tmp, path)
    return path


def install(path: Path) -> dict[TrainConfig, bool]:
    """Install a bundle's networks into the cache; returns each configuration with True where
    it was installed now (False: the cache held it already). Everything is checked first: on a
    ValueError naming the failing file, nothing was installed."""
    path = fetch(path)
    try:
        tar = tarfile.open(path)
    except tarfile.TarError as error:
        raise ValueError(f"{path}: not a ckatools bundle (not a tar file)") from error
    with tar:
        manifest = _manifest(tar, path)
        checked = []
        for entry in manifest["entries"]:
            config = TrainConfig(**entry["config"])
            if zoo.entry_dir(config).name != entry["folder"]:
                raise ValueError(
                    f"{path}: {entry['folder']} is not the cache folder of {zoo.describe(config)}"
                )
            checked.append((config, _checked(tar, path, entry, config)))
    done = {}
    for config, files in checked:
        folder = zoo.entry_dir(config)
        zoo.claim(folder, config)
        with storage.locked(folder):
            done[config] = not zoo.cached(config)
            if not done[config]:
                continue
            for name in sorted(files, key=lambda n: n == "model.pt"):  # the weights last
                storage.write_bytes(files[name], folder / name)
    return done
