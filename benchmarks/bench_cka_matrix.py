"""All-pairs minibatch CKA from one fixed set of activations: ckatools against its peers.

Every method sees the same tensors: ResNet-sized activations (16x32x32, 32x16x16 and 64x8x8
feature maps in turn, as in the three stages of a CIFAR ResNet) for several minibatches. The
peers, pytorch-cka and torch_cka from PyPI, are driven through their public model-and-dataloader
API by a "replay" network whose layers emit the stored activations, so their hooks and loops run
exactly as for a user. The floor is the Gram products alone (x @ x.T per layer and minibatch).

    python benchmarks/bench_cka_matrix.py [--layers 100] [--batch 256] [--batches 3]

Accuracy column: the largest deviation from ckatools run on float64 copies of the activations
(which tests/test_cka.py checks against independent formulas).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from ckatools.cka import MinibatchCKA

SHAPES = [(16, 32, 32), (32, 16, 16), (64, 8, 8)]


def make_activations(
    layers: int, batch: int, batches: int, seed: int = 0
) -> list[list[torch.Tensor]]:
    """Correlated, ReLU-like activations: each layer is a noisy function of a shared signal."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batches):
        signal = torch.randn(batch, 64, generator=gen)
        acts = []
        for i in range(layers):
            c, h, w = SHAPES[i % 3]
            mix = torch.randn(64, c * h * w, generator=gen) / 8
            acts.append(
                torch.relu(signal @ mix + 0.5 * torch.randn(batch, c * h * w, generator=gen)).view(
                    batch, c, h, w
                )
            )
        out.append(acts)
    return out


class Emit(nn.Module):
    """A layer that outputs a stored activation of the current minibatch."""

    def __init__(self, owner: Replay, index: int) -> None:
        super().__init__()
        self.owner, self.index = [owner], index  # a list, so the owner is not registered as a child

    def forward(self, _: torch.Tensor) -> torch.Tensor:
        return self.owner[0].activations[self.owner[0].current][self.index]


class Replay(nn.Module):
    """A network whose layers replay fixed activations; its input is the minibatch number."""

    def __init__(self, activations: list[list[torch.Tensor]]) -> None:
        super().__init__()
        self.activations, self.current = activations, 0
        self.layers = nn.ModuleList(Emit(self, i) for i in range(len(activations[0])))

    def forward(self, batch_id: torch.Tensor) -> torch.Tensor:
        self.current = int(batch_id[0])
        for layer in self.layers:
            out = layer(batch_id)
        return out

    def loader(self) -> DataLoader:
        n = self.activations[0][0].shape[0]
        ids = torch.arange(len(self.activations)).repeat_interleave(n)
        return DataLoader(TensorDataset(ids), batch_size=n, shuffle=False)

    def names(self) -> list[str]:
        return [f"layers.{i}" for i in range(len(self.layers))]


def run_ckatools(acts, dtype=None):
    acc = MinibatchCKA()
    for xs in acts:
        acc.update([x if dtype is None else x.to(dtype) for x in xs])
    return acc.compute()


def run_floor(acts):
    for xs in acts:
        for x in xs:
            f = x.flatten(1)
            f @ f.T
    return None


def run_pytorch_cka(acts):
    import cka as pytorch_cka

    model = Replay(acts)
    return pytorch_cka.compute_cka(
        model, model, model.loader(), layers=model.names(), device="cpu", progress=False
    )[0]


def run_torch_cka(acts):
    import warnings

    import torch_cka

    model = Replay(acts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cka = torch_cka.CKA(model, model, "a", "b", model.names(), model.names(), device="cpu")
        loader = model.loader()
        cka.compare(loader, loader)
    return cka.export()["CKA"]


def timed(fn, acts, repeat: int):
    """Best time of ``repeat`` runs, and the result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(acts)
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=100)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument(
        "--skip", nargs="*", default=[], help="methods to leave out, e.g. torch_cka"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per method, the best counts (torch_cka: one)",
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    acts = make_activations(args.layers, args.batch, args.batches)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.layers} layers, "
        f"{args.batches} minibatches of {args.batch}; activations {SHAPES} in turn; best of "
        f"{args.repeat} runs (torch_cka: one)"
    )
    run_ckatools(acts[:1])  # warm up
    reference = run_ckatools(acts, torch.float64)
    methods = {
        "floor (Gram products only)": run_floor,
        "ckatools": run_ckatools,
        "pytorch-cka 1.1.3": run_pytorch_cka,
        "torch_cka 0.21": run_torch_cka,
    }
    times = {}
    print("\n| method | seconds | x floor | x ckatools | max abs error |\n|---|---|---|---|---|")
    for name, fn in methods.items():
        if any(s in name for s in args.skip):
            continue
        seconds, matrix = timed(fn, acts, 1 if "torch_cka" in name else args.repeat)
        times[name] = seconds
        error = "" if matrix is None else f"{(matrix.double() - reference).abs().max().item():.1e}"
        floor, ours = times["floor (Gram products only)"], times.get("ckatools", seconds)
        print(
            f"| {name} | {seconds:.2f} | {seconds / floor:.2f} | {seconds / ours:.2f} | {error} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
