"""Seeds trained as one stacked network: the stack computes its members exactly, one SGD step
changes each member as a step alone would, a short run gives the networks training alone gives
(to float32 rounding), and the zoo stores every member as an ordinary entry."""

import copy
import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import tqdm.auto
from configs import ENTRY, SMOKE

from ckatools.data import synthetic
from ckatools.training import TrainingDiverged, build_model, stack, train, zoo
from ckatools.training.loop import _optimizer, stackable, train_together
from ckatools.training.stack import member_losses, stack_models, unstack_into

SEEDS = (0, 1, 2)
# float64 rounding, grown over a network's few hundred terms a sum and ten layers: far below it
FLOAT64 = 1e-10


def members(dtype=torch.float64):
    return [build_model(SMOKE.replace(seed=s), 10, 3).to(dtype) for s in SEEDS]


def test_stack_and_unstack_give_back_every_member_exactly():
    alone = members()
    again = [build_model(SMOKE.replace(seed=9), 10, 3).double() for _ in SEEDS]
    unstack_into(stack_models(alone), again)
    for a, b in zip(alone, again):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(x, y), name


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_stack_computes_each_member_as_alone(mode):
    alone = members()
    stacked = stack_models(alone)
    images = [synthetic(16, seed=s).unit().double() for s in SEEDS]
    for m in [*alone, stacked]:
        m.train(mode == "train")  # train: BatchNorm uses each member's own batch statistics
    out = stacked(torch.cat(images, dim=1)).view(16, len(SEEDS), 10)
    for k, (model, x) in enumerate(zip(alone, images)):
        torch.testing.assert_close(out[:, k], model(x), rtol=0, atol=FLOAT64)


def test_one_sgd_step_changes_each_member_as_a_step_alone():
    config = SMOKE.replace(weight_decay=1e-3)  # decay and momentum act per parameter
    alone = members()
    stacked = stack_models(alone)
    data = [synthetic(32, seed=s) for s in SEEDS]
    optimizer = _optimizer(stacked, config)
    x = torch.cat([d.unit().double() for d in data], dim=1)
    member_losses(stacked(x), [d.labels for d in data]).sum().backward()
    optimizer.step()
    for model, d in zip(alone, data):
        step = _optimizer(model, config)
        F.cross_entropy(model(d.unit().double()), d.labels).backward()
        step.step()
    after = [build_model(SMOKE.replace(seed=9), 10, 3).double() for _ in SEEDS]
    unstack_into(stacked, after)
    for a, b in zip(alone, after):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            torch.testing.assert_close(y, x, rtol=0, atol=FLOAT64, msg=name)


def distance(a, b) -> float:
    """Largest absolute difference over two networks' floating-point weights and statistics."""
    pairs = zip(a.state_dict().values(), b.state_dict().values())
    return max((x - y).abs().max().item() for x, y in pairs if x.is_floating_point())


def test_a_short_stacked_run_gives_the_networks_training_alone_gives():
    """float32: grouped and separate convolutions round differently (about 1e-7 relative, the
    one-step test's float64 check shows the arithmetic is otherwise the same), and 64 SGD steps
    with BatchNorm amplify that, measured, to 0.006-0.06 in the weights and statistics, while
    seeds differ by about 5: each member stays within a twentieth of that of its own network
    (measured: 1.3 % at most), and the accuracies agree to a few test images in 2,000."""
    configs = [SMOKE.replace(seed=s) for s in SEEDS]
    together = train_together(configs, device="cpu", progress=False)
    alone = [train(c, device="cpu", progress=False) for c in configs]
    between = min(distance(a, b) for (a, _), (b, _) in zip(alone, alone[1:]))
    for (model, result), (twin, expected) in zip(together, alone):
        assert result.stack == len(SEEDS) and expected.stack == 1
        assert distance(model, twin) < 0.05 * between
        assert abs(result.accuracy - expected.accuracy) <= 10 / len(expected.correct)
        assert [h["epoch"] for h in result.history] == [1, 2]


def test_a_stack_resumes_where_it_stopped(tmp_path):
    configs = [ENTRY.replace(seed=s) for s in SEEDS[:2]]
    whole = train_together(configs, device="cpu", progress=False)
    checkpoint = tmp_path / "stack.pt"
    train_together(configs, device="cpu", progress=False, checkpoint=checkpoint, stop_after=1)
    resumed = train_together(configs, device="cpu", progress=False, checkpoint=checkpoint)
    for (a, ra), (b, rb) in zip(whole, resumed):
        assert ra.history == rb.history
        for x, y in zip(a.state_dict().values(), b.state_dict().values()):
            assert torch.equal(x, y)


def test_a_diverging_stack_stops_naming_its_seeds():
    configs = [SMOKE.replace(seed=s, lr=1e6) for s in SEEDS[:2]]
    with pytest.raises(TrainingDiverged, match=r"non-finite in epoch 1 \(seeds \[0, 1\]"):
        train_together(configs, device="cpu", progress=False)


@pytest.mark.parametrize(
    "poisoned",
    [
        "stem.conv.weight",  # in the forward pass: the member's loss becomes NaN too
        "stem.bn.running_var",  # a statistic training does not read: only the weights tell
    ],
)
def test_a_member_going_non_finite_is_named_alone(poisoned, monkeypatch):
    """NaN in the second member's block of one tensor of the stack (the first stays finite:
    the members share no arithmetic) stops the stack naming that member's seed, not both."""

    def stack_with_nan(models):
        stacked = stack_models(models)
        stacked.state_dict()[poisoned].chunk(len(models))[1].fill_(math.nan)
        return stacked

    monkeypatch.setattr(stack, "stack_models", stack_with_nan)
    configs = [ENTRY.replace(seed=s) for s in SEEDS[:2]]
    with pytest.raises(TrainingDiverged, match=r"non-finite in epoch 1 \(seeds \[1\],"):
        train_together(configs, device="cpu", progress=False)


def test_only_seeds_of_one_configuration_stack():
    assert stackable([SMOKE.replace(seed=s) for s in SEEDS])
    assert not stackable([SMOKE, SMOKE.replace(seed=1, width=0.5)])
    assert not stackable([SMOKE, SMOKE])
    with pytest.raises(ValueError, match="differ only in their seed"):
        train_together([SMOKE, SMOKE.replace(depth=14)], progress=False)


def test_prepare_stacks_seeds_and_stores_ordinary_entries(cache, monkeypatch):
    configs = [ENTRY.replace(seed=s) for s in SEEDS] + [ENTRY.replace(width=0.5)]
    assert [len(g) for g in zoo.stacks(configs, 2)] == [2, 1, 1]
    done = zoo.prepare(configs, stack=4, progress=False)
    assert all(r["trained"] for r in done.values())
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("trained again"))
    for config in configs:
        model, result = zoo.get(config, device="cpu", progress=False, announce=False)
        assert result.stack == (3 if config.width == 0.25 else 1)
        assert math.isclose(result.accuracy, done[config]["accuracy"])
        assert not list(zoo.entry_dir(config).glob("*checkpoint*"))


def test_prepares_progress_counts_each_members_epochs(cache, monkeypatch):
    """A stack of K members trained for E epochs ticks the bar K x E times, one member-epoch
    each, against a total of K x E: the bar measures networks' epochs, not the stack's."""
    ticks = []

    class Counting(tqdm.auto.tqdm):
        def update(self, n=1):
            ticks.append((n, self.total))  # counted with the bar hidden too
            return super().update(n)

    monkeypatch.setattr(tqdm.auto, "tqdm", Counting)
    configs = [ENTRY.replace(seed=s) for s in SEEDS]
    zoo.prepare(configs, device="cpu", stack=len(configs), progress=False)
    member_epochs = len(configs) * ENTRY.epochs
    assert ticks == [(1, member_epochs)] * member_epochs


def test_prepare_lets_the_cost_model_choose_each_stack(monkeypatch):
    configs = [SMOKE.replace(seed=s) for s in range(5)] + [
        SMOKE.replace(width=0.5, seed=s) for s in (0, 1)
    ]
    sizes = {0.25: 2, 0.5: 1}
    assert [len(g) for g in zoo.stacks(configs, lambda c: sizes[c.width])] == [2, 2, 1, 1, 1]
    seen = []
    monkeypatch.setattr(zoo, "stack_size", lambda c, device: sizes[c.width])
    monkeypatch.setattr(zoo, "_train_unit", lambda group, *a: seen.append(len(group)) or {})
    monkeypatch.setattr(zoo, "cached", lambda c: False)
    monkeypatch.setattr(zoo.storage, "writable", lambda folder: None)
    with pytest.raises(KeyError):  # nothing was trained, so no result to return: the grouping
        zoo.prepare(configs, progress=False)
    assert seen == [2, 2, 1, 1, 1]


def _benchmark(name: str):
    """A module of benchmarks/ (not a package), loaded from its file."""
    path = Path(__file__).parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_stacked_ways_take_the_step_each_member_takes_alone():
    """bench_stack_step times grouped convolutions against vmap: both must compute each member's
    own step (its own batch, its own BatchNorm statistics), or the timing compares other work."""
    bench = _benchmark("bench_stack_step")
    alone = [build_model(SMOKE.replace(seed=s), 10, 3) for s in SEEDS]
    images = [synthetic(32, seed=s).unit() for s in SEEDS]
    labels = [synthetic(32, seed=s).labels for s in SEEDS]
    gaps = bench.largest_difference(alone, images, labels)
    assert set(gaps) == {"grouped", "vmap"}
    assert max(gaps.values()) <= bench.TOLERANCE[False], gaps
    step, state = bench.one_by_one(copy.deepcopy(alone), images, labels, bf16=False)
    step()  # the check is not vacuous: one step moves the weights far beyond the tolerance
    moved = max(
        (after[name] - before).abs().max().item()
        for after, network in zip(state(), alone)
        for name, before in network.named_parameters()
    )
    assert moved > 10 * bench.TOLERANCE[False]
