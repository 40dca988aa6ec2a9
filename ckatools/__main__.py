"""Command line: train one network, or everything a profile needs, into the model cache.

python -m ckatools train --dataset fashion-mnist --depth 20 --width 0.5 --epochs 10
python -m ckatools prepare cpu [EXPERIMENT ...]
python -m ckatools list | clean [--all]
"""

from __future__ import annotations

import argparse
import dataclasses

from . import profiles, zoo
from .train import TrainConfig


def _train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one network (or load it from the cache)")
    for field in dataclasses.fields(TrainConfig):
        if field.type in ("bool", bool):
            p.add_argument(
                f"--{field.name.replace('_', '-')}",
                type=lambda v: v.lower() in ("1", "true", "yes"),
                default=field.default,
            )
        else:
            kind = {"str": str, "int": int, "float": float}[
                field.type if isinstance(field.type, str) else field.type.__name__
            ]
            p.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=field.default)
    p.add_argument("--device", default=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ckatools", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    prep = sub.add_parser("prepare", help="train every network a profile's experiments need")
    prep.add_argument("profile", choices=profiles.PROFILES)
    prep.add_argument(
        "experiments", nargs="*", help=f"default: all of {', '.join(profiles.EXPERIMENTS)}"
    )
    prep.add_argument("--device", default=None)
    prep.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="networks trained at once, each in a process with its share of the CPU threads "
        "(on 2 cores, 2 jobs train narrow networks about 1.5x faster)",
    )
    sub.add_parser("list", help="list the cached networks")
    clean = sub.add_parser("clean", help="remove unfinished cache entries")
    clean.add_argument("--all", action="store_true", help="remove every cached network")
    args = parser.parse_args(argv)

    if args.command == "train":
        config = TrainConfig(
            **{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
        )
        _, results = zoo.get(config, device=args.device)
        print(
            f"{zoo.entry_dir(config)}: test accuracy {results['accuracy']:.4f}, "
            f"{results['seconds']:.0f} s of training"
        )
    elif args.command == "prepare":
        names = args.experiments or list(profiles.EXPERIMENTS)
        configs = list(
            dict.fromkeys(
                c
                for n in names
                for c in profiles.training_configs(profiles.experiment(n, args.profile))
            )
        )
        print(f"profile {args.profile}: {len(configs)} networks for {', '.join(names)}")
        done = zoo.prepare(configs, device=args.device, jobs=args.jobs)
        trained = sum(r["trained"] for r in done.values())
        print(f"{len(done) - trained} loaded from the cache, {trained} trained")
    elif args.command == "list":
        for entry in zoo.entries():
            acc = (
                "unreadable"
                if entry["accuracy"] is None
                else f"accuracy {entry['accuracy']:.4f}, {entry['seconds']:.0f} s"
            )
            print(f"{entry['path']}: {acc}")
    else:
        print(f"removed {zoo.clean(partial_only=not args.all)} entries")


if __name__ == "__main__":
    main()
