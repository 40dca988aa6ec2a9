"""Command line: train one network, or everything a profile needs, into the model cache.

python -m ckatools train --dataset fashion-mnist --depth 20 --width 0.5 --epochs 10
python -m ckatools prepare cpu [EXPERIMENT ...] [--dry-run] [--jobs N] [--stack K]
python -m ckatools prepare paper --engine slurm --partition gpu   # one SLURM job per stack
python -m ckatools list | clean [--all] [--dry-run]
python -m ckatools pack cpu FILE [EXPERIMENT ...]    # the trained networks, in one file
python -m ckatools install FILE|FOLDER               # ... into this cache: no training
"""

from __future__ import annotations

import argparse
import dataclasses

import torch

from ckatools.book import profiles
from ckatools.data import DATASETS
from ckatools.training import TrainConfig, bundle, cost, zoo

# What each field of TrainConfig means, for --help (the defaults are added from the dataclass).
FIELD_HELP = {
    "dataset": f"training data, one of {', '.join(DATASETS)}",
    "fraction": "class-balanced fraction of the training set, in (0, 1]",
    "depth": "network depth 6n+2 (8, 14, 20, ...)",
    "width": "width multiplier (positive; 16x it channels in the first stage)",
    "residual": "residual connections: true/false (also yes/no, 1/0)",
    "epochs": "training epochs (>= 1)",
    "batch_size": "minibatch size (>= 1)",
    "lr": "peak learning rate of the cosine schedule (finite, > 0)",
    "momentum": "SGD momentum, in [0, 1)",
    "weight_decay": "weight decay on conv and dense kernels (>= 0)",
    "augment": "pad-crop-flip augmentation: true/false (also yes/no, 1/0)",
    "seed": "seed of initialization and data order (>= 0)",
    "subset_seed": "seed of which examples a fraction keeps (>= 0)",
    "warmup_epochs": "epochs of linear learning-rate warm-up before the cosine decay",
    "bf16_cpu": "on the CPU, bfloat16 autocast and channels-last: true/false",
}
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


def _boolean(text: str) -> bool:
    """true/false, yes/no or 1/0 (any case); anything else is an error, never a silent False."""
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, yes/no or 1/0, got {text!r}")


def _train_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train one network (or load it from the cache)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(TrainConfig):
        kind = field.type if isinstance(field.type, str) else field.type.__name__
        parse = {"bool": _boolean, "str": str, "int": int, "float": float}[kind]
        p.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=parse,
            default=field.default,
            help=FIELD_HELP[field.name],
        )
    p.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:1 ...; None: cuda if there is one"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ckatools", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    prep = sub.add_parser("prepare", help="train every network a profile's experiments need")
    prep.add_argument("profile", choices=profiles.PROFILES, help="the budget to train for")
    prep.add_argument(
        "experiments", nargs="*", help=f"default: all of {', '.join(profiles.EXPERIMENTS)}"
    )
    prep.add_argument("--device", default=None, help="cpu, cuda ... (default: cuda if any)")
    prep.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="networks trained at once, each in a process with its share of the CPU threads "
        "(on 2 cores, 2 jobs train narrow networks about 1.5x faster; default 1); with several "
        "GPUs, each job gets its own, round-robin (job i on cuda:i mod GPUs) unless --device "
        "names one",
    )
    prep.add_argument(
        "--stack",
        type=int,
        default=None,
        help="seeds of one architecture trained together as one stacked network, up to this "
        "many (grouped convolutions; each stored as its own network; default: chosen per "
        "architecture by ckatools.training.cost.stack_size: stacks of narrow networks on a CPU "
        "with native bfloat16, none in float32, where they lose)",
    )
    prep.add_argument(
        "--engine",
        choices=("local", "slurm"),
        default=None,
        help="hand the networks (or stacks) to submitit, one job each: on SLURM (a GPU each), "
        "or as local processes; the jobs share the cache, whose per-entry locks train each "
        "network once (pip install submitit)",
    )
    prep.add_argument("--partition", default=None, help="--engine slurm: the SLURM partition")
    prep.add_argument(
        "--timeout-min", type=int, default=24 * 60, help="--engine: each job's time limit"
    )
    prep.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be trained, with an estimated time, and train nothing",
    )
    pack = sub.add_parser(
        "pack", help="write the cached networks a profile's experiments train to one file"
    )
    pack.add_argument("profile", choices=profiles.PROFILES, help="the budget they were trained for")
    pack.add_argument("file", help="the bundle to write (a tar file)")
    pack.add_argument("experiments", nargs="*", help="default: all of them")
    install = sub.add_parser(
        "install", help="install a bundle's trained networks into the cache (checked first)"
    )
    install.add_argument(
        "file", help="a bundle written by pack, its URL, or a folder of bundles (networks/cpu)"
    )
    sub.add_parser("list", help="list the cached networks")
    clean = sub.add_parser("clean", help="remove unfinished cache entries that ckatools made")
    clean.add_argument("--all", action="store_true", help="remove every cached network")
    clean.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    return parser


def _profile_configs(args, parser: argparse.ArgumentParser) -> tuple[list[str], list]:
    """The experiments named on the command line (default: all) and the networks they train."""
    names = args.experiments or list(profiles.EXPERIMENTS)
    unknown = [n for n in names if n not in profiles.EXPERIMENTS]
    if unknown:
        parser.error(
            f"unknown experiment(s) {', '.join(unknown)}; "
            f"choose from {', '.join(profiles.EXPERIMENTS)}"
        )
    configs = list(
        dict.fromkeys(
            c
            for n in names
            for c in profiles.training_configs(profiles.experiment(n, args.profile))
        )
    )
    return names, configs


def _prepare(args, parser: argparse.ArgumentParser) -> None:
    for option in ("jobs", "stack"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1, got {getattr(args, option)}")
    if args.engine is not None and args.jobs != 1:
        parser.error("--jobs applies to this machine; with --engine, every network is a job")
    if args.partition is not None and args.engine != "slurm":
        parser.error("--partition needs --engine slurm")
    names, configs = _profile_configs(args, parser)
    print(f"profile {args.profile}: {len(configs)} networks for {', '.join(names)}")
    if args.dry_run:
        missing = [c for c in configs if not zoo.cached(c)]
        for config in missing:
            print(f"  {cost.plan_line(config)}")
        total = sum(cost.cpu_seconds(c) for c in missing)
        print(
            f"{len(configs) - len(missing)} cached, {len(missing)} to train: about "
            f"{cost.describe_seconds(total)} on 2 CPU cores with one job (a GPU is much faster)"
        )
        return
    done = zoo.prepare(
        configs,
        device=args.device,
        jobs=args.jobs,
        stack=args.stack,
        executor=_executor(args, parser),
    )
    trained = sum(r["trained"] for r in done.values())
    print(f"{len(done) - trained} loaded from the cache, {trained} trained")


def _executor(args, parser: argparse.ArgumentParser):
    """The submitit executor ``--engine`` asks for (None without it); its logs go to the cache's
    ``submitit`` folder."""
    if args.engine is None:
        return None
    try:
        import submitit
    except ImportError:
        parser.error("--engine needs submitit: pip install submitit")
    from ckatools.data import cache_dir

    executor = submitit.AutoExecutor(folder=cache_dir() / "submitit", cluster=args.engine)
    options = dict(timeout_min=args.timeout_min)
    if args.engine == "slurm":
        options.update(gpus_per_node=1)
        if args.partition is not None:
            options.update(slurm_partition=args.partition)  # else the cluster's default
    executor.update_parameters(**options)
    return executor


def _check_device(parser: argparse.ArgumentParser, name: str | None) -> None:
    """Refuse a device that does not exist here, before anything is printed or trained."""
    if name is None:
        return
    try:
        device = torch.device(name)
    except RuntimeError as error:
        parser.error(f"--device {name!r} is not a device ({error}); try cpu or cuda")
    if device.type not in ("cpu", "cuda"):
        parser.error(f"--device {name!r}: ckatools trains on cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {name!r}: this machine has no CUDA GPU; use cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        parser.error(f"--device {name!r}: this machine has {torch.cuda.device_count()} GPU(s)")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_device(parser, getattr(args, "device", None))
    if args.command == "train":
        try:
            config = TrainConfig(
                **{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
            )
        except ValueError as error:
            parser.error(str(error))
        _, results = zoo.get(config, device=args.device)
        print(
            f"{zoo.entry_dir(config)}: test accuracy {results.accuracy:.4f}, "
            f"{results.seconds:.0f} s of training"
        )
    elif args.command == "prepare":
        _prepare(args, parser)
    elif args.command == "pack":
        _, configs = _profile_configs(args, parser)
        try:
            path = bundle.pack(configs, args.file)
        except ValueError as error:
            parser.error(f"{error}; train them first (python -m ckatools prepare {args.profile})")
        print(f"wrote {path}: {len(configs)} networks, {path.stat().st_size / 2**20:.1f} MiB")
    elif args.command == "install":
        try:
            done = bundle.install(args.file)
        except (ValueError, FileNotFoundError) as error:
            parser.error(str(error))
        new = sum(done.values())
        print(
            f"installed {new} networks into {zoo.entry_dir(next(iter(done))).parent}; "
            f"{len(done) - new} were cached already"
            if done
            else "the bundle is empty"
        )
    elif args.command == "list":
        for entry in zoo.entries():
            acc = (
                "corrupt (fails its checksum)"
                if entry["accuracy"] is None
                else f"accuracy {entry['accuracy']:.4f}, {entry['seconds']:.0f} s"
            )
            print(f"{entry['path']}: {acc}")
    else:
        folders = zoo.clean(partial_only=not args.all, dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        for folder in folders:
            print(f"{verb} {folder}")
        print(f"{verb} {len(folders)} entries")


if __name__ == "__main__":
    main()
