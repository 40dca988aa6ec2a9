"""model_cka against CKA computed independently from activations captured by plain hooks."""

import copy

import numpy as np
import pytest
import torch

from ckatools import model_cka, resnet
from ckatools.capture import minibatches, representations_of
from ckatools.cka import MinibatchCKA, linear_cka


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    model = resnet(8, 0.5)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval mode matters
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model, torch.rand(40, 3, 12, 12)


def activations(model, images, names):
    """Every named representation for ``images``, with plain hooks that keep whole activations."""
    store, handles = {}, []
    for name in names:
        if name != "input":
            module = model.get_submodule(name)
            handles.append(
                module.register_forward_hook(
                    lambda m, i, o, name=name: store.__setitem__(name, o.clone())
                )
            )
    with torch.no_grad():
        model.eval()(images)
    for h in handles:
        h.remove()
    store["input"] = images
    return [store[name] for name in names]


def test_single_minibatch_equals_pairwise_linear_cka(small):
    model, images = small
    names = [r.name for r in model.representations()]
    result = model_cka(model, images, batch_size=40, passes=1, progress=False)
    acts = activations(model, images, names)
    expected = np.array([[linear_cka(a, b, unbiased=True) for b in acts] for a in acts])
    np.testing.assert_allclose(result.matrix.numpy(), expected, atol=1e-5)
    assert [r.name for r in result.layers_a] == names


def test_several_minibatches_equal_accumulated_captures(small):
    model, images = small
    names = ["input", "stem.relu", "stage1.0.add", "stage2.0.relu2", "fc"]
    result = model_cka(
        model, images, batch_size=16, passes=2, seed=3, progress=False, layers_a=names
    )
    acc = MinibatchCKA()
    for index in minibatches(40, 16, 2, 3):
        acc.update(activations(model, images[index], names))
    torch.testing.assert_close(result.matrix, acc.compute(), atol=1e-6, rtol=0)


def test_within_model_symmetric_unit_diagonal_and_equal_to_cross_with_a_copy(small):
    model, images = small
    within = model_cka(model, images, batch_size=16, passes=2, progress=False).matrix
    cross = model_cka(
        model, images, copy.deepcopy(model), batch_size=16, passes=2, progress=False
    ).matrix
    torch.testing.assert_close(within, within.T, atol=1e-12, rtol=0)
    torch.testing.assert_close(
        within.diagonal(), torch.ones(len(within), dtype=torch.float64), atol=1e-9, rtol=0
    )
    torch.testing.assert_close(cross, within, atol=1e-9, rtol=0)


def test_two_different_models_and_a_dataset_input(small):
    model, images = small
    other = resnet(14, 0.25)
    dataset = torch.utils.data.TensorDataset(images, torch.zeros(40))
    a = model_cka(model, dataset, other, batch_size=20, passes=1, progress=False)
    b = model_cka(model, images, other, batch_size=20, passes=1, progress=False)
    assert a.matrix.shape == (len(model.representations()), len(other.representations()))
    torch.testing.assert_close(a.matrix, b.matrix, atol=0, rtol=0)


def test_modes_restored_and_hooks_removed_after_an_error(small):
    model, images = small
    model.train()
    with pytest.raises(ValueError, match="non-finite"):  # fails inside the first minibatch
        model_cka(model, torch.full((8, 3, 12, 12), float("nan")), progress=False)
    assert model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    model_cka(model, images, batch_size=40, passes=1, progress=False)
    assert model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_minibatches_cover_every_example_once_per_pass_and_fold_tiny_tails():
    batches = list(minibatches(10, 4, 2, 0))  # 4 + 4 + 2 would leave a tail of 2 < 4
    assert [len(b) for b in batches] == [4, 6, 4, 6]
    assert sorted(torch.cat(batches[:2]).tolist()) == list(range(10))
    assert [len(b) for b in minibatches(13, 4, 1, 0)] == [4, 4, 5]
    assert [len(b) for b in minibatches(12, 5, 1, 0)] == [5, 7]
    assert [len(b) for b in minibatches(14, 5, 1, 0)] == [5, 5, 4]
    first, second = list(minibatches(10, 4, 1, 1)), list(minibatches(10, 4, 1, 1))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_layer_subsets_and_errors(small):
    model, images = small
    post = [r for r in model.representations() if r.post_residual]
    result = model_cka(model, images, batch_size=20, passes=1, progress=False, layers_a=post)
    assert result.matrix.shape == (3, 3)
    with pytest.raises(ValueError, match="unknown layer name"):
        model_cka(model, images, progress=False, layers_a=["nope"])
    with pytest.raises(ValueError, match="at least 4 images, got 3"):
        model_cka(model, images[:3], progress=False)


def test_any_module_gets_leaf_representations():
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)
    )
    reps = representations_of(net)
    assert [r.name for r in reps] == ["input", "0", "1", "2", "3"]
    assert model_cka(
        net, torch.randn(30, 3, 2, 2), batch_size=10, passes=1, progress=False
    ).matrix.shape == (5, 5)


def test_activations_are_whole_flattened_and_in_the_requested_order(small):
    from ckatools.capture import activations as whole

    model, images = small
    names = ["stage2.0.relu2", "input", "fc"]
    got = whole(model, images, names, batch_size=7)
    expected = activations(model, images, names)  # independent plain hooks
    assert [g.shape[0] for g in got] == [len(images)] * 3
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e.flatten(1).float())
    pooled = whole(model, images, names, batch_size=7, pool=True)
    for p, e in zip(pooled, expected):  # feature maps averaged per channel; vectors unchanged
        torch.testing.assert_close(p, (e.mean((2, 3)) if e.dim() == 4 else e).float())


def test_minibatch_trajectory_approaches_full_data_unbiased_cka():
    from ckatools.analysis.convergence import minibatch_trajectory
    from ckatools.cka import linear_cka

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(240, 20, generator=gen, dtype=torch.float64)
    y = x @ torch.randn(20, 8, generator=gen, dtype=torch.float64) + torch.randn(
        240, 8, generator=gen
    )
    full = linear_cka(x, y, unbiased=True)
    path = minibatch_trajectory(x, y, 16, 40, unbiased=True)
    assert len(path) == 40 and abs(path[-1] - full) < abs(path[0] - full) + 1e-3
    assert abs(path[-1] - full) < 0.01
    biased = minibatch_trajectory(x, y, 16, 40, unbiased=False)[-1]
    assert abs(biased - linear_cka(x, y)) > 0.01  # the biased minibatch estimate has its own limit


def test_population_cka_equals_pairwise_model_cka_for_models_of_different_sizes():
    from ckatools import model_cka, population_cka

    torch.manual_seed(0)
    models = [resnet(8, 0.25), resnet(14, 0.25), resnet(8, 0.5)]
    images = torch.rand(40, 3, 12, 12)
    population = population_cka(models, images, batch_size=16, passes=2, progress=False)
    assert len(population) == 3
    for i in range(3):
        for j in range(3):
            pair = population[i, j]
            expected = model_cka(
                models[i],
                images,
                None if i == j else models[j],
                batch_size=16,
                passes=2,
                progress=False,
            )
            assert pair.matrix.shape == (len(pair.layers_a), len(pair.layers_b))
            torch.testing.assert_close(pair.matrix, expected.matrix, atol=1e-8, rtol=0)
            # Block (j, i) is its own product, not a transposed copy of (i, j): the two agree to
            # float64 rounding of a sum over minibatches of n(n-1)/2 terms, far below 1e-12.
            torch.testing.assert_close(population[j, i].matrix, pair.matrix.T, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="at least one model"):
        population_cka([], images)
