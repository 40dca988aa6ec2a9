"""Population CKA of M networks at once, against the M(M+1)/2 model_cka calls it replaces.

Same networks (ResNet-20 x1, different seeds, untrained: CKA's cost does not depend on the
weights), same CIFAR-sized images, minibatches of 256, one pass. Prints the seconds of each
way, the ratio, and the largest difference between their matrices.

    python benchmarks/bench_population_cka.py [--models 6] [--images 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse

import torch
from timing import best_of

from ckatools import model_cka, population_cka
from ckatools.models import resnet


def pairwise(models, images):
    return {
        (i, j): model_cka(
            models[i], images, None if i == j else models[j], passes=1, progress=False
        ).matrix
        for i in range(len(models))
        for j in range(i, len(models))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    models = []
    for seed in range(args.models):
        torch.manual_seed(seed)
        models.append(resnet(args.depth).eval())
    images = torch.rand(args.images, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.models} x "
        f"ResNet-{args.depth}, {args.images} images, minibatches of 256, one pass, best of "
        f"{args.repeat}"
    )
    population_cka(models[:2], images[:256], passes=1, progress=False)  # warm up
    ours, population = best_of(
        args.repeat, lambda: population_cka(models, images, passes=1, progress=False)
    )
    theirs, pairs = best_of(args.repeat, pairwise, models, images)
    error = max((population[i, j].matrix - m).abs().max().item() for (i, j), m in pairs.items())
    print("| method | seconds | x population_cka |\n|---|---|---|")
    print(f"| population_cka (all pairs at once) | {ours:.2f} | 1.00 |")
    print(f"| {len(pairs)} pairwise model_cka calls | {theirs:.2f} | {theirs / ours:.2f} |")
    print(f"largest difference between the two: {error:.1e}")


if __name__ == "__main__":
    main()
