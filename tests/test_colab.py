"""The Colab path: a CPU runtime stops with the way to a GPU, and the cache can live on Drive."""

import sys
import types

import pytest
import torch

from ckatools.book import colab, profiles
from ckatools.data import cache_dir


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    """A Colab runtime without a GPU whose Drive mounts into ``tmp_path``."""
    mounted = []
    drive = types.SimpleNamespace(mount=lambda path: mounted.append(path))
    package = types.ModuleType("google.colab")
    package.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", package)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("CKATOOLS_PROFILE", raising=False)
    return mounted


def test_outside_colab_use_drive_changes_nothing(cache, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not colab.on_colab()
    assert colab.use_drive() == cache_dir() == cache


def test_on_colab_use_drive_keeps_the_cache_on_drive(fake_colab, tmp_path, monkeypatch):
    monkeypatch.setenv("CKATOOLS_CACHE", str(tmp_path / "session"))
    folder = colab.use_drive(mount=str(tmp_path / "drive"))
    assert fake_colab == [str(tmp_path / "drive")]
    assert folder == tmp_path / "drive" / "MyDrive" / "ckatools" == cache_dir()
    assert folder.is_dir()


def test_a_colab_cpu_runtime_stops_with_the_way_to_a_gpu(fake_colab, monkeypatch):
    with pytest.raises(RuntimeError, match="no GPU: Runtime -> Change runtime type -> GPU"):
        profiles.active()
    assert profiles.active("cpu") == "cpu"  # named explicitly: the reader chose the CPU
    monkeypatch.setenv("CKATOOLS_PROFILE", "smoke")
    assert profiles.active() == "smoke"
