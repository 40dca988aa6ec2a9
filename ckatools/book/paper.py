"""Published numbers from Nguyen, Raghu & Kornblith (ICLR 2021), shown beside ours, never in place
of them.
"""

from __future__ import annotations

__all__ = ["TABLE_B1", "DATA", "TRAIN_IMAGES", "EPOCHS", "ARCHITECTURES", "TRAIN_ACCURACY"]

# Table B.1: test accuracy (%) on (CIFAR-10, CIFAR-100) for (depth, width multiplier), 300 epochs.
TABLE_B1: dict[tuple[int, int], tuple[float, float]] = {
    (32, 1): (93.5, 71.2),
    (44, 1): (94.0, 72.0),
    (56, 1): (94.2, 73.3),
    (110, 1): (94.3, 74.0),
    (164, 1): (94.4, 73.9),
    (14, 1): (92.0, 67.8),
    (14, 2): (94.1, 72.9),
    (14, 4): (95.4, 77.0),
    (14, 8): (95.9, 80.0),
    (14, 10): (96.0, 80.2),
    (20, 1): (92.8, 69.4),
    (20, 2): (94.6, 74.4),
    (20, 4): (95.4, 77.6),
    (20, 8): (96.0, 80.2),
    (20, 10): (95.8, 80.8),
    (26, 1): (93.3, 70.5),
    (26, 2): (94.9, 75.8),
    (26, 4): (95.6, 79.3),
    (26, 8): (95.9, 80.9),
    (26, 10): (95.8, 81.0),
    (38, 1): (93.8, 72.3),
    (38, 2): (95.1, 75.9),
    (38, 4): (95.5, 78.6),
    (38, 8): (95.7, 79.8),
    (38, 10): (95.7, 80.5),
}

# The paper's regime (Section 3 and Appendix B): what the book's own regime is shown beside.
DATA = "CIFAR-10 and CIFAR-100"
TRAIN_IMAGES = 50_000
EPOCHS = 300
TRAIN_ACCURACY = "about 100 % (trained until they fit)"
_DEPTHS = sorted({d for d, _ in TABLE_B1})
_WIDTHS = sorted({w for _, w in TABLE_B1})
ARCHITECTURES = (
    f"ResNet-{_DEPTHS[0]} to ResNet-{_DEPTHS[-1]}, ×{_WIDTHS[0]} to ×{_WIDTHS[-1]} (Table B.1)"
)
