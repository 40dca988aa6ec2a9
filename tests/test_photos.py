"""Fashion-MNIST-M: the garments on crops of photographs, the same on every machine."""

import hashlib

import numpy as np
import pytest
import torch

from ckatools import data, storage
from ckatools.data import photos

needs_fashion_mnist = pytest.mark.skipif(
    not (data.FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
)


def test_the_blend_is_the_absolute_difference_with_a_crop_of_a_source():
    sources = photos.photographs()
    assert len(sources) == 3 * len(photos.SCALES) and all(s.dtype == np.uint8 for s in sources)
    assert sources[1].shape[0] == sources[0].shape[0] // 2  # block-averaged by 2
    garments = np.zeros((50, 28, 28), dtype=np.uint8)
    background = photos.blend(garments, seed=3)  # |crop - 0| = the crop itself
    assert background.shape == (50, 3, 28, 28) and background.dtype == np.uint8
    crop = background[0].transpose(1, 2, 0)
    found = any(
        (np.lib.stride_tricks.sliding_window_view(s, (28, 28, 3)) == crop).all((-3, -2, -1)).any()
        for s in sources
    )
    assert found  # the first background is a crop of one of the nine sources
    white = photos.blend(np.full((50, 28, 28), 255, dtype=np.uint8), seed=3)
    np.testing.assert_array_equal(white, 255 - background)  # |c - 255| = 255 - c
    assert not np.array_equal(photos.blend(garments, seed=4), background)
    np.testing.assert_array_equal(photos.blend(garments, seed=3), background)


def test_block_averaging_is_exact_integer_rounding():
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    small = photos._downscale(image, 2)
    expected = np.floor(image.reshape(2, 2, 3, 2, 3).mean((1, 3)) + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(small, expected)


@needs_fashion_mnist
def test_fashion_mnist_m_is_identical_everywhere_and_cached_with_its_checksum(
    cache,
):
    photos.fashion_mnist_m.cache_clear()
    train, test = data.load("fashion-mnist-m"), data.load("fashion-mnist-m", train=False)
    source = data.load("fashion-mnist", train=False)
    assert train.images.shape == (60000, 3, 28, 28) and test.images.shape == (10000, 3, 28, 28)
    assert torch.equal(test.labels, source.labels) and train.num_classes == 10
    digests = [hashlib.sha256(d.images[:64].numpy().tobytes()).hexdigest() for d in (train, test)]
    assert digests == [  # pinned: a change of recipe must bump photos.VERSION
        "97a413756453e3f55b255943efcad8f1cde8bbddea580b8bb9a9e02af970c69e",
        "f5d6f64d0f1c74b7b1fbcae436214dd50ef4f8737b4f77592783f86c2279298d",
    ]
    (path,) = (cache / "data").glob("fashion-mnist-m-v1-test.pt")
    data_bytes = bytearray(path.read_bytes())
    data_bytes[-100] ^= 1
    path.write_bytes(bytes(data_bytes))
    with pytest.raises(storage.CorruptFile):
        storage.load(path)
    photos.fashion_mnist_m.cache_clear()
    rebuilt = data.load("fashion-mnist-m", train=False)  # a corrupt cache file is rebuilt
    assert torch.equal(rebuilt.images, test.images)
    photos.fashion_mnist_m.cache_clear()


def test_sources_name_the_photograph_each_image_was_cut_from(monkeypatch):
    plain = [np.full((40, 40, 3), 10 * k, dtype=np.uint8) for k in range(9)]  # one colour each
    monkeypatch.setattr(photos, "photographs", lambda: plain)
    images = photos.blend(np.zeros((60, 28, 28), dtype=np.uint8), seed=7)
    _, which = photos._which(60, seed=7)
    np.testing.assert_array_equal(images[:, 0, 0, 0], 10 * which)
    assert len(photos.source_names()) == 9 and photos.source_names()[1] == "china.jpg at 1/2"


@needs_fashion_mnist
def test_sources_and_backgrounds_of_a_split():
    which = photos.sources(train=False)
    assert len(which) == 10_000 and set(np.unique(which)) == set(range(9))
    light = photos.backgrounds(train=False)
    assert light.shape == (10_000,) and 0 <= light.min() and light.max() <= 255
