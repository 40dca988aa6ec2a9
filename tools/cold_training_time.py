"""How long a profile's networks take to train from an empty cache, measured without training them.

Every network the profile needs trains for three epochs, with the batch-norm recalibration and
the evaluation a full run ends with (nothing else may run on the machine); the estimate adds the
remaining epochs at those epochs' pace. Beside it, the training
times the cache recorded when its networks were trained (None when a network is not cached),
which are too high for networks trained while another job shared the cores.

    python tools/cold_training_time.py [--profile cpu] [--experiments mistakes ...]
"""

from __future__ import annotations

import argparse
import time

import torch
from tqdm.auto import tqdm

from ckatools.book import profiles
from ckatools.training import TrainConfig, cpu_has_bf16, train, zoo

SAMPLE_EPOCHS = 3  # more than the 2-epoch warm-up, which must end before the schedule does


def estimate(config: TrainConfig) -> float:
    """Seconds to train ``config`` from scratch on the CPU: a run of a few epochs with its
    evaluation, plus the other epochs at their pace."""
    epochs = min(SAMPLE_EPOCHS, config.epochs)
    sample = config.replace(epochs=epochs, warmup_epochs=min(config.warmup_epochs, epochs - 1))
    start = time.perf_counter()
    _, results = train(sample, device="cpu", progress=False)
    return time.perf_counter() - start + results.seconds / epochs * (config.epochs - epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--experiments", nargs="*", default=list(profiles.EXPERIMENTS))
    args = parser.parse_args()
    recorded = {entry["path"]: entry["seconds"] for entry in zoo.entries()}
    seen: set[TrainConfig] = set()
    rows = []
    for name in args.experiments:
        exp = profiles.experiment(name, args.profile)
        served = profiles.training_configs(exp)  # as cached, in either precision
        new = [c for c in dict.fromkeys(served) if c.replace(bf16_cpu=exp.bf16_cpu) not in seen]
        seen.update(c.replace(bf16_cpu=exp.bf16_cpu) for c in new)
        if not new:
            continue
        cold = [c.replace(bf16_cpu=exp.bf16_cpu and cpu_has_bf16()) for c in new]  # on this CPU
        measured = sum(estimate(c) for c in tqdm(cold, desc=name, unit="net"))
        logged = [recorded.get(str(zoo.entry_dir(c))) for c in new]
        known = None if None in logged else sum(logged)
        rows.append((name, len(new), measured, known))
    print(f"\nprofile {args.profile}, {torch.get_num_threads()} threads")
    print(f"{'experiment':<22}{'networks':>9}{'estimate min':>14}{'recorded min':>14}")
    for name, count, measured, known in rows:
        logged = "-" if known is None else f"{known / 60:.1f}"
        print(f"{name:<22}{count:>9}{measured / 60:>14.1f}{logged:>14}")
    total = sum(r[2] for r in rows)
    print(f"{'all':<22}{len(seen):>9}{total / 60:>14.1f}")


if __name__ == "__main__":
    main()
