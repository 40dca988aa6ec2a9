"""Datasets, subsets, augmentation and profiles."""

import warnings

import pytest
import torch
import torch.nn.functional as F

from ckatools import data
from ckatools.book import profiles
from ckatools.training import fraction_label


def test_balanced_subsets_are_balanced_and_deterministic():
    labels = torch.arange(10).repeat_interleave(100)[
        torch.randperm(1000, generator=torch.Generator().manual_seed(0))
    ]
    for fraction, per_class in ((1 / 16, 6), (0.06, 6), (0.25, 25), (0.5, 50), (1.0, 100)):
        index = data.balanced_subset(labels, fraction, seed=1)
        assert labels[index].bincount().tolist() == [per_class] * 10
        assert torch.equal(index, data.balanced_subset(labels, fraction, seed=1))
        assert len(index.unique()) == len(index)
    assert not torch.equal(
        data.balanced_subset(labels, 0.25, seed=1), data.balanced_subset(labels, 0.25, seed=2)
    )


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction must be in"):
        data.balanced_subset(torch.zeros(10, dtype=torch.long), fraction)


def test_augment_is_a_reflect_padded_crop_with_flips():
    x = torch.rand(16, 3, 8, 8)
    out = data.augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    # replay the same random draws and crop by hand
    gen = torch.Generator().manual_seed(0)
    dy, dx = torch.randint(0, 9, (2, 16), generator=gen)
    flip = torch.rand(16, generator=gen) < 0.5
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    for i in range(16):
        crop = padded[i, :, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8]
        torch.testing.assert_close(out[i], crop.flip(-1) if flip[i] else crop)
    assert flip.any() and not flip.all()


def test_batches_scale_to_unit_interval_and_cover_the_data():
    d = data.synthetic(50, seed=0)
    seen = torch.cat([y for _, y in data.batches(d, 16, shuffle=False)])
    assert torch.equal(seen, d.labels)
    x, _ = next(data.batches(d, 16, train_augment=True, generator=torch.Generator().manual_seed(0)))
    assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1


def test_synthetic_is_reproducible_and_the_splits_differ():
    a, b = data.load("synthetic", seed=3), data.load("synthetic", seed=3)
    assert (
        torch.equal(a.images, b.images)
        and a.images.dtype == torch.uint8
        and a.images.shape[1:] == (3, 32, 32)
    )
    assert not torch.equal(
        data.load("synthetic", train=False).images, data.load("synthetic").images
    )


@pytest.mark.skipif(
    not (data.FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
    reason="dataset-fashion-mnist not installed",
)
def test_fashion_mnist_offline():
    test = data.load("fashion-mnist", train=False)
    assert (
        test.images.shape == (10000, 1, 28, 28) and test.labels.bincount().tolist() == [1000] * 10
    )


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*fashion-mnist"):
        data.load("mnist")


def test_unavailable_cifar_names_the_offline_alternative(cache, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(RuntimeError, match="could not be downloaded.*fashion-mnist"):
        data.load("cifar10")


def test_cifar100_coarse_map_has_20_superclasses_of_5():
    assert data.CIFAR100_COARSE.bincount().tolist() == [5] * 20


def test_profiles(monkeypatch):
    monkeypatch.setenv("CKATOOLS_PROFILE", "smoke")
    assert profiles.active() == "smoke"
    assert profiles.active("paper") == "paper"
    exp = profiles.experiment("cka_basics")
    assert exp.profile == "smoke" and exp.dataset == "synthetic"
    with pytest.raises(
        ValueError, match="unknown profile 'fast'; valid profiles: smoke, cpu, colab, paper"
    ):
        profiles.active("fast")
    with pytest.raises(
        ValueError, match="unknown experiment 'nope'; valid experiments: cka_basics"
    ):
        profiles.experiment("nope")
    for name, budgets in profiles.EXPERIMENTS.items():
        assert set(budgets) == set(profiles.PROFILES), name


def test_profile_summary_fits_the_text_column():
    from ckatools.book import profiles

    for name in profiles.EXPERIMENTS:
        for profile in profiles.PROFILES:
            text = profiles.summary(profiles.experiment(name, profile))
            assert max(map(len, text.splitlines())) <= 88, (name, profile)
            assert text.startswith(f"profile {profile}, {name}: ")
    text = profiles.summary(profiles.experiment("family", "paper"))
    assert "architectures=((32, 1)" in text and "epochs=300" in text
    assert "residual=False" in profiles.summary(profiles.experiment("plain", "cpu"))
    assert "epochs=0" in profiles.summary(profiles.experiment("cka_basics", "cpu"))  # untrained
    reused = profiles.summary(profiles.experiment("principal_components", "cpu"))
    assert "epochs" not in reused and reused.endswith("its networks are Chapter 3's")


def test_each_network_is_served_in_the_precision_it_was_trained_in_and_none_trains_twice(
    monkeypatch, cache
):
    """Emulated bfloat16 is about 10x slower than float32 (ckatools.training.cpu_has_bf16), so a
    CPU without it trains the cpu profile's missing networks in float32 and says so; a network
    the cache holds is served in whichever precision it was trained (bfloat16 where both are),
    decided by the network alone, so experiments that share it get the same one. The budget
    line and the caption name the networks whose precision differs from the rest."""
    from ckatools import training
    from ckatools.book import experiments, profiles
    from ckatools.training import zoo

    def install(config):
        zoo.entry_dir(config).mkdir(parents=True)
        (zoo.entry_dir(config) / "model.pt").touch()

    def networks(name):
        return profiles.training_configs(profiles.experiment(name, "cpu"))

    monkeypatch.setattr(profiles, "_WARNED", set())
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)
    declared = networks("depth_series")
    assert all(c.bf16_cpu for c in declared)
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: False)
    with pytest.warns(RuntimeWarning, match="no native bfloat16.*float32"):
        assert networks("depth_series") == [c.replace(bf16_cpu=False) for c in declared]
    summary = profiles.summary(profiles.experiment("depth_series", "cpu"))
    assert "bf16_cpu=True" in summary and f"float32 here: {len(declared)} of its" in summary

    *first, last = declared  # all but one network trained in bfloat16 elsewhere
    for config in first:
        install(config)
    assert networks("depth_series") == first + [last.replace(bf16_cpu=False)]  # one trains
    install(last.replace(bf16_cpu=False))
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)
    mixed = networks("depth_series")
    assert mixed == first + [last.replace(bf16_cpu=False)]  # served as trained, none again
    named = f"{last.label} 1/32 s{last.seed}"
    recipe = lambda *networks: experiments._recipe(networks)
    old = [(c, None) for c in mixed]  # records from before TrainResult kept the device
    assert recipe(*old).endswith(f", bfloat16 on the CPU (float32: {named})")
    as_float32 = first[0].replace(bf16_cpu=False)
    assert recipe((mixed[-1], "cpu"), (as_float32, None)) == ", 2-epoch warm-up"
    assert recipe((mixed[-1], None), (mixed[-1], None), (first[0], "cpu")) == (
        f", 2-epoch warm-up, float32 (bfloat16 on the CPU: {first[0].label} 1/32 s0)"
    )
    on_gpu = f"{first[0].label} 1/32 s0"  # the same configuration trained on a GPU is named
    assert recipe((first[0], "cuda"), *old[1:]).endswith(
        f", bfloat16 on the CPU (mixed precision on a GPU: {on_gpu}; float32: {named})"
    )
    assert recipe(*[(c, "cuda") for c in mixed]) == ", 2-epoch warm-up, mixed precision on a GPU"
    assert experiments.trained_precision(first[0], "cpu, cuda") == (
        "bfloat16 on the CPU and mixed precision on a GPU"  # resumed on a GPU
    )
    assert experiments.trained_precision(first[0], "mps") == "float32"  # bf16_cpu is CPU-only
    install(first[0].replace(bf16_cpu=False))  # in both precisions: bfloat16 is served
    assert networks("depth_series") == mixed

    everything = [c for name in profiles.EXPERIMENTS for c in networks(name)]
    by_network = {c.replace(bf16_cpu=False): c.bf16_cpu for c in everything}
    assert len(by_network) == len(set(everything))  # shared networks: one precision each
    plain = networks("plain")  # nothing cached, bfloat16 native: bfloat16
    assert all(c.bf16_cpu for c in plain)
    install(plain[0].replace(bf16_cpu=False))  # one trained in float32 on another machine
    assert networks("plain") == [plain[0].replace(bf16_cpu=False)] + plain[1:]
    begun = plain[1].replace(bf16_cpu=False)  # an unfinished float32 run goes on in float32
    zoo.entry_dir(begun).mkdir(parents=True)
    (zoo.entry_dir(begun) / "checkpoint.pt").touch()
    monkeypatch.setattr(profiles, "_WARNED", set())
    with warnings.catch_warnings():  # bfloat16 is native: no warning that it is not
        warnings.simplefilter("error")
        assert networks("plain") == [plain[0].replace(bf16_cpu=False), begun] + plain[2:]
    zoo.entry_dir(plain[1]).mkdir(parents=True)
    (zoo.entry_dir(plain[1]) / "checkpoint.pt").touch()  # ... unless a bfloat16 one exists too
    assert networks("plain") == [plain[0].replace(bf16_cpu=False)] + plain[1:]
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU: the flag names it
    assert networks("plain") == [plain[0].replace(bf16_cpu=False)] + plain[1:]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a bfloat16 checkpoint is
    assert networks("plain")[1] == begun  # not resumed where bfloat16 would be emulated

    monkeypatch.setattr(zoo, "snapshots", lambda config, epochs: {})
    snapshot = plain[1]  # chapter 10's snapshots: the network's precision unless emulated here
    assert experiments.snapshots(snapshot, [1, 2])[0] == snapshot.replace(bf16_cpu=False)
    for epoch in (1, 2):
        path = zoo.entry_dir(snapshot) / "snapshots" / f"epoch-{epoch}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    assert experiments.snapshots(snapshot, [1, 2])[0] == snapshot  # cached: served
    assert experiments.snapshots(snapshot, [1, 3])[0] == snapshot.replace(bf16_cpu=False)
    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)
    assert experiments.snapshots(snapshot, [1, 3])[0] == snapshot
    float32 = snapshot.replace(bf16_cpu=False)  # a float32 network: rerun in float32
    assert experiments.snapshots(float32, [1, 3])[0] == float32
    assert experiments.precision(float32) == "float32"


def test_seeds_trained_in_two_precisions_stay_one_group_and_the_caption_names_them(
    monkeypatch, cache
):
    """Chapter 9's groups gather an architecture's seeds whatever their precision, and its
    caption names the networks of every group passed in (the baselines' included)."""
    from types import SimpleNamespace

    from ckatools.book import experiments, profiles

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    exp = profiles.experiment("mistakes", "cpu")
    configs = profiles.training_configs(exp)[:3]
    configs = [c.replace(bf16_cpu=i != 1) for i, c in enumerate(configs)]
    devices = ("cpu", "cpu", "cuda")

    def results(config):
        ones = torch.ones(5, dtype=torch.bool)
        return SimpleNamespace(
            correct=ones, train_accuracy=0.9, train_size=10, device=devices[config.seed]
        )

    monkeypatch.setattr(
        experiments, "_networks", lambda exp, progress: ((c, None, results(c)) for c in configs)
    )
    (group,) = experiments.groups(exp).values()
    assert group.seeds == (0, 1, 2) and group.configs == tuple(configs)
    assert group.devices == devices
    first, rest = group._take(slice(0, 1)), group._take(slice(1, 3))
    assert first.configs == tuple(configs[:1]) and rest.configs == tuple(configs[1:])
    assert rest.devices == devices[1:]
    caption = experiments.group_provenance(exp, [first, rest]).replace("\n  ", " ")
    # s1 trained in float32, s2 on a GPU
    s1, s2 = (f"{c.label} {fraction_label(c.fraction)} s{c.seed}" for c in configs[1:])
    assert f"bfloat16 on the CPU (mixed precision on a GPU: {s2}; float32: {s1})" in caption
