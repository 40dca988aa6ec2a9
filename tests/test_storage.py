"""The cache never serves a wrong network: checksums, plain-data loading, environment errors kept
apart from corruption, a lock per entry, and a clean that touches only what ckatools made."""

import errno
import io
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
import torch
from configs import ENTRY, SMOKE

from ckatools import storage
from ckatools.training import TrainingDiverged, zoo


def flip_byte(path: pathlib.Path, offset_from_end: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def test_save_and_load_round_trip_with_no_temporary_file_left(tmp_path):
    obj = {"a": 1, "w": torch.arange(5.0), "t": (1, "x")}
    storage.save(obj, tmp_path / "x" / "f.pt")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["f.pt"]
    back = storage.load(tmp_path / "x" / "f.pt")
    assert back["a"] == 1 and back["t"] == (1, "x") and torch.equal(back["w"], obj["w"])


def test_a_flipped_bit_anywhere_is_detected(tmp_path):
    path = tmp_path / "f.pt"
    storage.save({"w": torch.randn(1000)}, path)
    size = len(path.read_bytes())
    for offset in (1, size // 2, size - 80):  # end of file, middle, inside the header
        storage.save({"w": torch.randn(1000)}, path)
        flip_byte(path, offset)
        with pytest.raises(storage.CorruptFile, match=str(path)):
            storage.load(path)


def test_files_without_the_header_and_pickled_code_are_refused(tmp_path):
    old = tmp_path / "old.pt"
    torch.save({"a": 1}, old)  # an entry of an older ckatools: no checksum
    with pytest.raises(storage.CorruptFile, match="no ckatools checksum header"):
        storage.load(old)

    class Payload:  # what a malicious shared file could contain
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    buffer = io.BytesIO()
    torch.save({"model": Payload()}, buffer)
    evil = tmp_path / "evil.pt"
    digest = storage.hashlib.sha256(buffer.getvalue()).hexdigest().encode()
    evil.write_bytes(storage.MAGIC + digest + b"\n" + buffer.getvalue())  # a valid checksum
    with pytest.raises(storage.CorruptFile, match="not a plain-data torch file"):
        storage.load(evil)
    assert not (tmp_path / "pwned").exists()


def test_a_full_disk_leaves_no_temporary_file_and_names_the_path(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(OSError, match="could not write .*f.pt.*No space left"):
        storage.save({"a": 1}, tmp_path / "f.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_flipped_byte_in_a_cached_network_is_never_served(cache):
    model, first = zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    path = zoo.entry_dir(ENTRY) / "model.pt"
    flip_byte(path)
    with pytest.warns(RuntimeWarning, match=f"discarding unreadable cache entry {path}.*checksum"):
        again, results = zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    # retrained, not served: on the CPU the rerun is the same network
    assert results.accuracy == first.accuracy and storage.load(path)["format"] == 1
    x = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(again(x), model(x), atol=0, rtol=0)


def test_a_flipped_byte_in_a_cached_matrix_is_recomputed(cache, monkeypatch):
    first = zoo.cka_matrix(ENTRY, images=64, passes=1, progress=False)
    (path,) = zoo.entry_dir(ENTRY).glob("cka-*.pt")
    flip_byte(path, 20)
    calls = []
    real = zoo.model_cka
    monkeypatch.setattr(zoo, "model_cka", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.warns(RuntimeWarning, match="discarding unreadable CKA matrix"):
        again = zoo.cka_matrix(ENTRY, images=64, passes=1, progress=False)
    assert calls == [1]
    torch.testing.assert_close(again.matrix, first.matrix, atol=0, rtol=0)


def test_a_permission_error_is_raised_with_the_path_and_deletes_nothing(cache, monkeypatch):
    zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    path = zoo.entry_dir(ENTRY) / "model.pt"
    real = pathlib.Path.read_bytes

    def denied(self):
        if self == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", denied)
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(PermissionError, match="model.pt"):
        zoo.get(ENTRY, device="cpu", progress=False)
    monkeypatch.undo()
    assert storage.load(path)["format"] == zoo.FORMAT_VERSION  # still there, intact


def test_an_unwritable_cache_fails_before_training(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CKATOOLS_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(PermissionError, match="is not writable.*CKATOOLS_CACHE"):
        zoo.get(ENTRY, device="cpu", progress=False)
    with pytest.raises(PermissionError, match="is not writable"):
        zoo.prepare([ENTRY], progress=False)


def test_a_diverging_run_stops_with_its_epoch_and_is_not_cached(cache):
    config = SMOKE.replace(lr=1e12)  # the whole set: all 32 steps of epoch 1 to overflow in
    with pytest.raises(TrainingDiverged, match="non-finite in epoch 1"):
        zoo.get(config, device="cpu", progress=False, announce=False)
    assert not (zoo.entry_dir(config) / "model.pt").exists()
    assert not (zoo.entry_dir(config) / "checkpoint.pt").exists()


def test_clean_removes_only_what_ckatools_made_and_has_a_dry_run(cache):
    zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    partial = ENTRY.replace(seed=1)
    zoo.claim(zoo.entry_dir(partial), partial)  # a run that was interrupted before its end
    thesis = cache / "models" / "my_thesis_models"
    thesis.mkdir()
    (thesis / "weights.bin").write_bytes(b"years of work")
    assert zoo.clean(dry_run=True) == [zoo.entry_dir(partial)]
    assert zoo.entry_dir(partial).exists()
    assert zoo.clean() == [zoo.entry_dir(partial)] and not zoo.entry_dir(partial).exists()
    assert zoo.clean(partial_only=False) == [zoo.entry_dir(ENTRY)]
    assert (thesis / "weights.bin").read_bytes() == b"years of work"


def test_two_processes_asking_for_one_network_train_it_once(cache):
    script = textwrap.dedent(
        """
        from ckatools.training import zoo
        from ckatools.training import TrainConfig
        config = TrainConfig(dataset="synthetic", depth=8, width=0.25, epochs=4, batch_size=64,
                             lr=0.05)
        _, results = zoo.get(config, device="cpu", progress=False)
        print("accuracy", results.accuracy)
        """
    )
    env = dict(os.environ, CKATOOLS_CACHE=str(cache), OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    text = "".join(outputs)
    assert text.count(": training (4 epochs)") == 1, text
    assert text.count("loaded from cache") == 1, text
    accuracies = {line for line in text.splitlines() if line.startswith("accuracy")}
    assert len(accuracies) == 1  # the second process got the first one's network


def test_an_entry_of_an_older_ckatools_is_kept_aside_not_served(cache):
    zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    path = zoo.entry_dir(ENTRY) / "model.pt"
    torch.save(storage.load(path), path)  # as the first ckatools wrote it: no checksum
    with pytest.warns(RuntimeWarning, match="no ckatools checksum header.*kept as model.pt.legacy"):
        zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    assert (path.parent / "model.pt.legacy").exists() and storage.load(path)["format"] == 1


def test_a_network_keeps_the_device_it_trained_on_and_older_entries_read_the_entrys(cache):
    """Captions name the precision from it: CUDA trains in mixed precision whatever bf16_cpu."""
    _, trained = zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    _, served = zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    assert trained.device == served.device == "cpu"
    path = zoo.entry_dir(ENTRY) / "model.pt"
    entry = storage.load(path)
    del entry["results"]["device"]  # written before results kept it; the entry always had it
    storage.save({**entry, "device": "cuda:1"}, path)
    assert zoo.get(ENTRY, device="cpu", progress=False, announce=False)[1].device == "cuda"


def test_prepare_retrains_a_corrupt_cached_entry_with_the_others(cache):
    zoo.get(ENTRY, device="cpu", progress=False, announce=False)
    flip_byte(zoo.entry_dir(ENTRY) / "model.pt")
    with pytest.warns(RuntimeWarning, match="checksum"):
        done = zoo.prepare([ENTRY], device="cpu", progress=False)
    assert done[ENTRY]["trained"]  # counted as trained now, not as loaded


def test_clean_leaves_an_entry_that_is_being_trained(cache):
    partial = ENTRY.replace(seed=3)
    folder = zoo.entry_dir(partial)
    zoo.claim(folder, partial)
    with storage.locked(folder):
        assert storage.busy(folder) and zoo.clean() == []
    assert not storage.busy(folder) and zoo.clean() == [folder]


def test_equal_configurations_share_a_key():
    import numpy as np

    assert zoo.key(ENTRY.replace(width=1)) == zoo.key(ENTRY.replace(width=1.0))
    assert zoo.key(ENTRY.replace(depth=np.int64(8))) == zoo.key(ENTRY)
    assert zoo.key(ENTRY.replace(fraction=1)) == zoo.key(ENTRY.replace(fraction=1.0))
