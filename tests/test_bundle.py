"""The no-training path: networks packed from one cache and installed into another, checked."""

import io
import tarfile

import pytest
import torch

from ckatools.__main__ import main
from ckatools.book import experiments, profiles
from ckatools.training import bundle, zoo
from ckatools.training import loop as training_loop


def _no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("trained a network that the bundle should have installed")

    monkeypatch.setattr(zoo, "train", refuse)
    monkeypatch.setattr(zoo, "train_together", refuse)
    monkeypatch.setattr(training_loop, "train", refuse)


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """The smoke profile's depth series, trained into one cache and packed."""
    source = tmp_path_factory.mktemp("source-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("CKATOOLS_CACHE", str(source))
    exp = profiles.experiment("depth_series", "smoke")
    runs = experiments.heatmaps(exp, progress=False)  # trains, and caches the CKA matrices too
    zoo.snapshots(runs[0].config, [1])  # chapter 10's snapshots travel too
    path = bundle.pack(profiles.training_configs(exp), source / "networks.tar")
    weights = {r.config: zoo.get(r.config, announce=False)[0].state_dict() for r in runs}
    patch.undo()
    return path, runs, weights


def test_a_chapter_runs_without_training_on_installed_networks(packed, cache, monkeypatch):
    path, runs, weights = packed
    assert set(bundle.contents(path)) == {r.config for r in runs}
    done = bundle.install(path)
    assert all(done.values()) and set(done) == {r.config for r in runs}
    _no_training(monkeypatch)
    again = experiments.heatmaps(profiles.experiment("depth_series", "smoke"), progress=False)
    assert set(zoo.snapshots(runs[0].config, [1])) == {1}  # served, not trained
    for run, before in zip(again, runs):
        assert torch.equal(run.cka.matrix, before.cka.matrix)  # the cached matrices came along
        model = zoo.get(run.config, announce=False)[0]
        for name, tensor in model.state_dict().items():
            assert torch.equal(tensor, weights[run.config][name]), name
    assert not any(bundle.install(path).values())  # a second install keeps what is there


def _copied(path, tmp_path, change):
    """A copy of the bundle, each member's bytes passed through ``change(name, data)``."""
    out = tmp_path / "changed.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for info in src.getmembers():
            data = change(info.name, src.extractfile(info).read())
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def _damaged(path, tmp_path, member_suffix: str):
    """A copy of the bundle with one byte of its first member ending in ``member_suffix``
    flipped (the manifest is copied as it is)."""
    first = []

    def flip(name: str, data: bytes) -> bytes:
        if first or not name.endswith(member_suffix):
            return data
        first.append(name)
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0xFF
        return bytes(flipped)

    return _copied(path, tmp_path, flip)


def test_a_damaged_bundle_names_its_file_and_installs_nothing(packed, cache, tmp_path):
    path, runs, _ = packed
    with pytest.raises(ValueError, match="model.pt: fails the manifest's SHA-256"):
        bundle.install(_damaged(path, tmp_path, "model.pt"))
    assert not any(zoo.cached(r.config) for r in runs)
    not_a_bundle = tmp_path / "plain.tar"
    with tarfile.open(not_a_bundle, "w"):
        pass
    with pytest.raises(ValueError, match="not a ckatools bundle"):
        bundle.install(not_a_bundle)


def test_a_folder_of_bundles_installs_whole_or_not_at_all(packed, cache, monkeypatch, tmp_path):
    path, runs, _ = packed
    folder = tmp_path / "networks"
    folder.mkdir()
    monkeypatch.setenv("CKATOOLS_CACHE", str(path.parent))
    for i, run in enumerate(runs):
        bundle.pack([run.config], folder / f"{i}.tar")
    monkeypatch.setenv("CKATOOLS_CACHE", str(cache))
    damaged = _damaged(folder / "1.tar", tmp_path, "model.pt")
    (folder / "1.tar").write_bytes(damaged.read_bytes())
    with pytest.raises(ValueError, match="1.tar: .*model.pt: fails the manifest's SHA-256"):
        bundle.install(folder)
    assert not any(zoo.cached(r.config) for r in runs)  # the sound 0.tar was not installed
    (folder / "1.tar").unlink()
    main(["install", str(folder)])
    assert [zoo.cached(r.config) for r in runs] == [i != 1 for i in range(len(runs))]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no bundle"):
        bundle.install(tmp_path / "empty")


def _rewritten(path, tmp_path, edit):
    """A copy of the bundle whose manifest ``edit`` changed (the files copied as they are)."""
    import json

    def rewrite(name: str, data: bytes) -> bytes:
        if name != bundle.MANIFEST:
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return _copied(path, tmp_path, rewrite)


def test_a_manifest_that_climbs_out_or_is_malformed_is_refused(packed, cache, tmp_path):
    path, runs, _ = packed

    def climb(manifest):
        files = manifest["entries"][0]["files"]
        files["../../escape.pt"] = files.pop("model.pt")

    with pytest.raises(ValueError, match="escape.pt: not a cache file name"):
        bundle.install(_rewritten(path, tmp_path, climb))

    def newer(manifest):
        manifest["entries"][0]["config"]["a_later_field"] = 1

    with pytest.raises(ValueError, match="not a ckatools bundle"):
        bundle.install(_rewritten(path, tmp_path, newer))
    assert not any(zoo.cached(r.config) for r in runs)


def test_an_unsound_entry_in_the_cache_is_replaced_whole(packed, cache):
    path, runs, weights = packed
    config = runs[0].config
    folder = zoo.entry_dir(config)
    folder.mkdir(parents=True)
    (folder / "model.pt").write_bytes(b"not a network")
    (folder / "cka-n1-p1-b4.pt").write_bytes(b"a matrix of that other network")
    done = bundle.install(path)
    assert done[config] and not (folder / "cka-n1-p1-b4.pt").exists()
    model = zoo.get(config, announce=False)[0]
    assert all(torch.equal(t, weights[config][k]) for k, t in model.state_dict().items())


def test_pack_refuses_networks_that_are_not_cached(cache, tmp_path):
    configs = profiles.training_configs(profiles.experiment("depth_series", "smoke"))
    with pytest.raises(ValueError, match=f"{len(configs)} networks are not in the cache"):
        bundle.pack(configs, tmp_path / "x.tar")


def test_the_command_line_installs_a_bundle(packed, cache, capsys):
    path, runs, _ = packed
    main(["install", path.as_uri()])  # a URL is downloaded first (here a file:// one)
    assert f"installed {len(runs)} networks" in capsys.readouterr().out
    assert all(zoo.cached(r.config) for r in runs)
    for missing in (str(cache / "missing.tar"), (cache / "missing.tar").as_uri()):
        with pytest.raises(SystemExit):
            main(["install", missing])


def test_keep_networks_saves_each_network_once_and_restores_them_with_unfinished_runs(
    packed, cache, monkeypatch, tmp_path_factory, capsys
):
    """tools/keep_networks.py: the repository's copy of a cache (one bundle per network and
    the checkpoints of unfinished runs) is put back into an empty cache whole; a save from a
    cache that lacks them loses nothing, and a damaged bundle keeps only itself out."""
    import importlib.util
    from pathlib import Path

    from ckatools import storage

    tool = Path(__file__).resolve().parent.parent / "tools" / "keep_networks.py"
    spec = importlib.util.spec_from_file_location("keep_networks", tool)
    keep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(keep)
    path, runs, _ = packed
    root = tmp_path_factory.mktemp("networks")
    monkeypatch.setenv("CKATOOLS_CACHE", str(path.parent))
    unfinished = runs[0].config.replace(seed=99)
    zoo.claim(zoo.entry_dir(unfinished), unfinished)
    storage.save({"state": {"epoch": 1}}, zoo.entry_dir(unfinished) / "checkpoint.pt")
    keep.save(root)
    bundles = sorted((root / "cpu").glob("*.tar"))
    assert {b.stem for b in bundles} == {zoo.entry_dir(r.config).name for r in runs}
    keep.save(root)  # nothing new: no bundle is written again
    assert "0 bundles written" in capsys.readouterr().out.splitlines()[-1]
    monkeypatch.setenv("CKATOOLS_CACHE", str(cache))
    keep.save(root)  # from an empty cache: the kept checkpoint stays
    assert (root / "partial" / zoo.entry_dir(unfinished).name / "checkpoint.pt").exists()
    later = zoo.entry_dir(unfinished) / "checkpoint.pt"
    zoo.claim(later.parent, unfinished)
    storage.save({"state": {"epoch": 5}}, later)  # this cache is further along: it stays
    bundles[1].write_bytes(bundles[1].read_bytes()[:1000])  # a damaged bundle
    keep.restore(root)
    assert "not installed" in capsys.readouterr().out
    for run in runs:
        assert zoo.cached(run.config) == (zoo.entry_dir(run.config).name != bundles[1].stem)
    assert storage.load(later) == {"state": {"epoch": 5}}
    later.unlink()
    keep.restore(root)
    assert storage.load(later) == {"state": {"epoch": 1}}
