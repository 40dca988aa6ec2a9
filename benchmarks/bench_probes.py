"""Linear probes on every pre- and post-residual representation: ckatools against scikit-learn.

Both run the same protocol on the same features: standardize with the fitting split's
statistics, fit multinomial L2-penalized logistic regression (L-BFGS, at most 200 iterations)
for each of probes.PENALTIES on 80 % of the training images, keep the penalty with the
best accuracy on the other 20 %, refit on all training images and score the test images once.
scikit-learn's C is the same penalty: C = 1 / (2 n penalty) for its sum-of-losses objective.
The network is untrained (seeded): a probe's cost depends on the features' size, not on what
they mean. Prints, per layer, seconds and test accuracy of each, and the total ratio.

    python benchmarks/bench_probes.py [--depth 26] [--width 1] [--train 5000] [--test 2048]
                                      [--every 1]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from timing import best_of, offline_dataset

from ckatools.analysis.probes import PENALTIES, fit_probe, probe_data
from ckatools.capture import activations, representations_of
from ckatools.data import balanced_subset
from ckatools.models import resnet


def sklearn_probe(x, y, test_x, test_y, seed: int = 0) -> float:
    """The same protocol as probes.fit_probe, with scikit-learn's LogisticRegression."""
    x, test_x, y, test_y = x.numpy(), test_x.numpy(), y.numpy(), test_y.numpy()
    held = balanced_subset(torch.as_tensor(y), 0.2, seed=seed).numpy()
    mask = np.ones(len(y), dtype=bool)
    mask[held] = False

    def fit(features, labels, penalty):
        c = 1 / (2 * len(labels) * penalty)
        return LogisticRegression(C=c, max_iter=200).fit(features, labels)

    scaler = StandardScaler().fit(x[mask])
    fit_x, val_x = scaler.transform(x[mask]), scaler.transform(x[held])
    scores = {p: fit(fit_x, y[mask], p).score(val_x, y[held]) for p in PENALTIES}
    best = max(PENALTIES, key=lambda p: (scores[p], p))
    scaler = StandardScaler().fit(x)
    return fit(scaler.transform(x), y, best).score(scaler.transform(test_x), test_y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=26)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=2048)
    parser.add_argument("--every", type=int, default=1, help="probe every k-th representation")
    args = parser.parse_args()
    dataset = offline_dataset()
    train_x, train_y, test_x, test_y = probe_data(dataset, args.train, args.test)
    torch.manual_seed(0)
    model = resnet(args.depth, args.width, in_channels=train_x.shape[1]).eval()
    reps = [r for r in representations_of(model) if r.pre_residual or r.post_residual]
    reps = reps[:: args.every]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
        f"ResNet-{args.depth} x{args.width:g} (untrained), {dataset}: {len(train_y)} training, "
        f"{len(test_y)} test images, {len(reps)} representations\n"
    )
    print(
        "| representation | features | ckatools s | sklearn s | ratio | accuracy ckatools | "
        "sklearn |\n|---|---|---|---|---|---|---|"
    )
    totals, worst = [0.0, 0.0], 0.0
    for r in reps:
        x, tx = activations(model, train_x, [r.name])[0], activations(model, test_x, [r.name])[0]
        ours_s, ours = best_of(1, fit_probe, x, train_y, tx, test_y)
        theirs_s, theirs = best_of(1, sklearn_probe, x, train_y, tx, test_y)
        ours = ours["test_accuracy"]
        totals[0] += ours_s
        totals[1] += theirs_s
        worst = max(worst, abs(ours - theirs))
        print(
            f"| {r.name} | {x.shape[1]:,} | {ours_s:.1f} | {theirs_s:.1f} | "
            f"{theirs_s / ours_s:.1f} | {ours:.3f} | {theirs:.3f} |",
            flush=True,
        )
    print(
        f"\ntotal: ckatools {totals[0]:.0f} s, scikit-learn {totals[1]:.0f} s, "
        f"ratio {totals[1] / totals[0]:.1f}x; largest accuracy difference {100 * worst:.1f} points"
    )


if __name__ == "__main__":
    main()
