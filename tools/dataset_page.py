"""The figure of the book's dataset page (book/datasets.md): python tools/dataset_page.py

The first test images of Fashion-MNIST and of Fashion-MNIST-M (ckatools.data.photos), and how much
their backgrounds vary: the mean of each image's four 3x3 corners, over the whole test set.
Writes book/images/datasets.png; rerun it when ckatools.data.photos changes.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from ckatools import page  # noqa: E402
from ckatools.data import load  # noqa: E402
from ckatools.plot import image_grid  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "book" / "images" / "datasets.png"


def corner_means(images: np.ndarray) -> np.ndarray:
    """Each image's mean over its four 3x3 corners, all channels (0-255): its background."""
    mask = np.zeros(images.shape[-2:], dtype=bool)
    mask[:3, :3] = mask[:3, -3:] = mask[-3:, :3] = mask[-3:, -3:] = True
    return images[..., mask].reshape(len(images), -1).mean(1)


def main() -> None:
    plain, photos = load("fashion-mnist", train=False), load("fashion-mnist-m", train=False)
    images = [plain.images[i].numpy() / 255 for i in range(6)]
    images += [photos.images[i].numpy() / 255 for i in range(12)]
    captions = [plain.class_name(plain.labels[i]) for i in range(6)]
    captions += [photos.class_name(photos.labels[i]) for i in range(12)]
    fig = image_grid(images, captions, ncols=6, size=1.1, fontsize=10)
    stats = []
    for name, data in (("Fashion-MNIST", plain), ("Fashion-MNIST-M", photos)):
        means = corner_means(data.images.numpy().astype(float))
        stats.append(f"{name}: corners {means.mean():.0f} ± {means.std():.0f}")
    fig.suptitle(
        "Row 1: Fashion-MNIST; row 2: the same garments\nin Fashion-MNIST-M; row 3: the next ones\n"
        + "\n".join(stats)
        + " (mean ± SD over images)",
        fontsize=10,
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    page.save(fig, OUT)  # with its font record, which tools/check_html.py reads
    print(f"wrote {OUT}: " + "; ".join(stats))


if __name__ == "__main__":
    main()
