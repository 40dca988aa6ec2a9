"""The CIFAR code path that Colab users run, on small format-exact fake CIFAR-10 and CIFAR-100
files (torchvision's pickled batches) written into a temporary cache."""

import pickle

import numpy as np
import pytest
import torch

torchvision = pytest.importorskip("torchvision")

from ckatools import data  # noqa: E402
from ckatools.training import TrainConfig, zoo  # noqa: E402


def write_batch(path, images: np.ndarray, labels: np.ndarray, label_key: str) -> None:
    """One pickled batch as torchvision reads it: rows of 3072 bytes (R, G, B planes)."""
    entry = {"data": images.reshape(len(images), -1), label_key: labels.tolist()}
    if label_key == "fine_labels":
        entry["coarse_labels"] = data.CIFAR100_COARSE[torch.from_numpy(labels)].tolist()
    with open(path, "wb") as f:
        pickle.dump(entry, f)


@pytest.fixture
def fake_cifar(cache, monkeypatch, tmp_path):
    """CIFAR-10 (5 x 40 training, 60 test images) and CIFAR-100 (80 + 60) under a temporary
    cache. The files cannot have the real ones' MD5 sums, so torchvision's integrity check is
    switched off here, in the fixture, not in ckatools."""
    rng = np.random.default_rng(0)
    images = lambda n: rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        write_batch(folder / f"data_batch_{i}", images(40), rng.integers(0, 10, 40), "labels")
    write_batch(folder / "test_batch", images(60), rng.integers(0, 10, 60), "labels")
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(data.CLASS_NAMES["cifar10"])}, f)
    folder = tmp_path / "data" / "cifar-100-python"
    folder.mkdir()
    write_batch(folder / "train", images(80), rng.integers(0, 100, 80), "fine_labels")
    write_batch(folder / "test", images(60), rng.integers(0, 100, 60), "fine_labels")
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"class {i}" for i in range(100)]}, f)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    data.cifar.cache_clear()
    yield tmp_path
    data.cifar.cache_clear()


@pytest.mark.parametrize("name, classes, train_size", [("cifar10", 10, 200), ("cifar100", 100, 80)])
def test_cifar_loads_trains_and_gives_a_heatmap(fake_cifar, name, classes, train_size):
    train = data.load(name, train=True)
    test = data.load(name, train=False)
    assert train.images.shape == (train_size, 3, 32, 32) and train.images.dtype == torch.uint8
    assert len(test) == 60 and train.num_classes == classes
    assert int(train.labels.max()) < classes
    config = TrainConfig(dataset=name, depth=8, width=0.25, epochs=1, batch_size=32, lr=0.05)
    model, results = zoo.get(config, device="cpu", progress=False, announce=False)
    assert model.fc.out_features == classes and results.epochs_done == 1
    assert results.logits.shape == (60, classes)
    result = zoo.cka_matrix(config, images=40, passes=1, progress=False)
    assert result.matrix.shape == (len(result.layers_a),) * 2
    assert torch.isfinite(result.matrix).all()


def test_without_the_files_and_offline_cifar_says_what_to_do(cache, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", offline)
    data.cifar.cache_clear()
    with pytest.raises(RuntimeError, match="could not be downloaded.*fashion-mnist"):
        data.load("cifar10")
    data.cifar.cache_clear()


def test_a_gpu_profile_without_a_gpu_warns_once_with_the_time(monkeypatch):
    from ckatools.book import profiles

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(profiles, "_WARNED", set())
    with pytest.warns(RuntimeWarning, match="'colab' without a CUDA GPU.*about .* on 2 CPU cores"):
        profiles.experiment("depth_series", "colab")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        profiles.experiment("width_series", "colab")  # once per profile, not per experiment
