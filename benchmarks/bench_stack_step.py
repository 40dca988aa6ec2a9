"""Two ways to train K seeds of one architecture as one: grouped convolutions against vmap.

One training step (forward, backward, SGD with momentum) per network, for K networks of one
architecture: one after another (the baseline), as one stacked network of grouped convolutions
(``ckatools.training.stack``, what ``train_together`` uses), and as ``torch.func.vmap`` over
the members' stacked parameters (``stack_module_state`` + ``functional_call``, the ensemble
recipe of the PyTorch docs). Each member gets its own batch of random images; BatchNorm in
training mode updates each member's own statistics in both stacked ways. Time per network-step
is the median of the timed steps after a warm-up, in the machine's training precision (bf16
autocast and channels-last with native bfloat16, float32 without), and each way is printed as a
ratio to the baseline. Before timing, one step of each stacked way is checked against the steps
alone (every member's parameters, to the rounding of the precision used): the grouped way must
agree (it is what training uses); a vmap step that does not is timed, starred and reported.

    python benchmarks/bench_stack_step.py [--members 4 8] [--steps 8] [--side 28] [--depths 8]

``--side 32`` times CIFAR-sized images (and the synthetic data's); on the Zen 5 of 8 December
2026 a bare step of ResNet-8 x0.5 stacked 8 times gained about as much there as at 28 (1.81x
against 1.80x), while ``train_together``'s steps on the synthetic data gained less (README).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from ckatools.models import resnet
from ckatools.training import cpu_has_bf16
from ckatools.training.stack import member_losses, stack_models, unstack_into

ARCHITECTURES = ((8, 0.5), (38, 0.25), (20, 1))  # shallow-narrow, deep-narrow, the book's x1
BATCH, CLASSES = 128, 10  # the book's batch size
# A step alone and stacked sum the same products in another order: after one SGD step (lr 0.01)
# the parameters differ by float32 rounding of the gradients (relative 1e-7 over sums of a few
# thousand terms, times lr), far below 1e-4; bf16 autocast rounds each product to 8 bits of
# mantissa (relative 4e-3), times lr and a gradient of order 1: below 1e-3.
TOLERANCE = {False: 1e-4, True: 1e-3}


def _precision(bf16: bool):
    """The autocast context and memory format a CPU training step uses."""
    if bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16), torch.channels_last
    return contextlib.nullcontext(), torch.contiguous_format


def _median_step(step, steps: int) -> float:
    """Median seconds of ``steps`` calls of ``step`` after two warm-up calls."""
    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_by_one(models, images, labels, bf16: bool):
    """Each network stepped on its own: (step, state) where ``state()`` lists each member's
    parameters and buffers by name."""
    autocast, memory_format = _precision(bf16)
    models = [m.to(memory_format=memory_format) for m in models]
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m in models]
    images = [x.contiguous(memory_format=memory_format) for x in images]

    def step() -> None:
        for model, opt, x, y in zip(models, optimizers, images, labels):
            with autocast:
                loss = F.cross_entropy(model(x).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return step, lambda: [_state(m) for m in models]


def _state(model) -> dict:
    """A network's parameters and buffers (BatchNorm's running statistics) by name."""
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def grouped(models, images, labels, bf16: bool):
    """The members as one network of grouped convolutions: (step, parameters)."""
    autocast, memory_format = _precision(bf16)
    stacked = stack_models(models).to(memory_format=memory_format)
    opt = torch.optim.SGD(stacked.parameters(), lr=0.01, momentum=0.9)
    x = torch.cat(images, dim=1).contiguous(memory_format=memory_format)  # member k: block k

    def step() -> None:
        with autocast:
            losses = member_losses(stacked(x), labels)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()

    def state() -> list[dict]:
        unstack_into(stacked, models)  # the members' own tensors, overwritten
        return [_state(m) for m in models]

    return step, state


def vmapped(models, images, labels, bf16: bool):
    """``vmap`` over the members' stacked parameters and buffers: (step, parameters). The
    parameters stay contiguous: ``stack_module_state`` makes new (K, ...) tensors."""
    autocast, memory_format = _precision(bf16)
    params, buffers = stack_module_state(models)  # (K, ...) leaves, each member's own
    skeleton = copy.deepcopy(models[0]).to("meta")
    opt = torch.optim.SGD(params.values(), lr=0.01, momentum=0.9)
    x = torch.stack([i.contiguous(memory_format=memory_format) for i in images])  # (K, B, C, H, W)
    y = torch.stack(labels)  # (K, B)

    def member(p, b, xs, ys):
        return F.cross_entropy(functional_call(skeleton, (p, b), (xs,)).float(), ys)

    def step() -> None:
        with autocast:
            losses = vmap(member)(params, buffers, x, y)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()

    stacked = params | buffers
    return step, lambda: [{n: t[k] for n, t in stacked.items()} for k in range(len(models))]


WAYS = (("one by one", one_by_one), ("grouped", grouped), ("vmap", vmapped))


def largest_difference(models, images, labels, bf16: bool = False) -> dict[str, float]:
    """One step of each way from the same networks and batches: for each stacked way, the
    largest absolute difference of any member's parameter or buffer (BatchNorm's running
    statistics) from the step taken alone."""
    steps = {}
    for name, way in WAYS:
        step, state = way(copy.deepcopy(models), images, labels, bf16)
        step()
        steps[name] = state()
    alone = steps.pop("one by one")
    return {
        name: max(
            (b[n].detach().float() - p.detach().float()).abs().max().item()
            for a, b in zip(alone, members)
            for n, p in a.items()
        )
        for name, members in steps.items()
    }


def _seconds_per_network_step(way, models, images, labels, bf16: bool, steps: int) -> float:
    step, _ = way(copy.deepcopy(models), images, labels, bf16)
    return _median_step(step, steps) / len(models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="*", default=[4, 8])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--side", type=int, default=28, help="image side (28: Fashion-MNIST-M)")
    parser.add_argument("--depths", type=int, nargs="*", help="only these architectures' depths")
    args = parser.parse_args()
    bf16 = cpu_has_bf16()
    print(
        f"batch {BATCH} of {args.side}x{args.side}x3 per member, {'bf16' if bf16 else 'float32'} "
        f"(native bfloat16: {bf16}), {torch.get_num_threads()} threads; ms per network-step "
        f"(x: against one by one)\n"
    )
    limit, far = TOLERANCE[bf16], set()
    print("| architecture | K | " + " | ".join(name for name, _ in WAYS) + " |")
    print("|---|---" + "|---" * len(WAYS) + "|")
    for depth, width in ARCHITECTURES:
        if args.depths and depth not in args.depths:
            continue
        for k in args.members:
            torch.manual_seed(0)
            models = [resnet(depth, width, num_classes=CLASSES) for _ in range(k)]
            images = [torch.rand(BATCH, 3, args.side, args.side) for _ in range(k)]
            labels = [torch.randint(0, CLASSES, (BATCH,)) for _ in range(k)]
            gaps = largest_difference(models, images, labels, bf16)
            if gaps["grouped"] > limit:  # the way train_together trains
                raise RuntimeError(f"a grouped step differs from the steps alone: {gaps}")
            far |= {(name, depth, width, k, gap) for name, gap in gaps.items() if gap > limit}
            times = [
                _seconds_per_network_step(way, models, images, labels, bf16, args.steps)
                for _, way in WAYS
            ]
            cells = [
                f"{1e3 * t:.1f} ({times[0] / t:.2f}x){'*' if gaps.get(name, 0) > limit else ''}"
                for (name, _), t in zip(WAYS, times)
            ]
            print(f"| ResNet-{depth} ×{width:g} | {k} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nlargest parameter difference after one step, against alone: {gaps}")
    for name, depth, width, k, gap in sorted(far):
        print(
            f"* {name}, ResNet-{depth} ×{width:g}, K = {k}: a step differs from the steps alone "
            f"by {gap:.1e}, more than the rounding allows ({limit:g})"
        )


if __name__ == "__main__":
    main()
