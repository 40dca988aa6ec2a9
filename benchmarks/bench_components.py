"""Principal components of every representation: from Gram matrices against per-layer SVDs.

ckatools.components gets each layer's PC1 (fraction of variance, example-space vector) from the
n x n centred Gram matrix (its top eigenpair by batched subspace iteration, the variance from
its trace), all layers at once after one forward pass. The baseline keeps each layer's whole
activations and takes the SVD of the centred (n x p) matrix, layer by layer. The floor is the
forward pass that computes the Gram matrices (ckatools.components.gram_stack), and below it the
bare forward pass. Prints seconds, ratios, and the largest difference between the two ways' PC1
fractions.

    python benchmarks/bench_components.py [--depth 20] [--width 1] [--images 512] [--repeat 3]
"""

from __future__ import annotations

import argparse

import torch
from timing import best_of, offline_dataset

from ckatools.capture import activations, representations_of
from ckatools.components import components, gram_stack
from ckatools.data import load
from ckatools.models import resnet


def per_layer_svd(model, images) -> torch.Tensor:
    """PC1 fraction of every representation from the SVD of its centred activations."""
    fractions = []
    for r in representations_of(model):
        (x,) = activations(model, images, [r.name])
        s = torch.linalg.svdvals((x - x.mean(0)).double())
        total = (s**2).sum()
        fractions.append(s[0] ** 2 / total if total > 0 else torch.tensor(float("nan")))
    return torch.stack(fractions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dataset = offline_dataset()
    images = load(dataset, train=False).unit()[: args.images]
    torch.manual_seed(0)
    model = resnet(args.depth, args.width, in_channels=images.shape[1]).eval()
    layers = len(representations_of(model))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
        f"ResNet-{args.depth} x{args.width:g} (untrained), {dataset}, {args.images} images, "
        f"{layers} representations; best of {args.repeat}\n"
    )
    with torch.no_grad():
        bare, _ = best_of(args.repeat, lambda: model(images))
    grams, _ = best_of(args.repeat, lambda: gram_stack(model, images))
    ours, result = best_of(args.repeat, lambda: components(gram_stack(model, images)))
    svd, fractions = best_of(1, lambda: per_layer_svd(model, images))
    difference = (torch.as_tensor(result.fraction) - fractions).abs().nan_to_num().max()
    print("| way | seconds | ckatools.components / this |\n|---|---|---|")
    for name, seconds in (
        ("ckatools.components (one forward pass, Gram matrices, top eigenpairs)", ours),
        ("per-layer SVD of the centred activations", svd),
        ("forward pass with Gram matrices (gram_stack)", grams),
        ("bare forward pass", bare),
    ):
        print(f"| {name} | {seconds:.2f} | {ours / seconds:.2f} |")
    print(f"\nlargest difference of PC1 fractions: {difference:.1e}")


if __name__ == "__main__":
    main()
