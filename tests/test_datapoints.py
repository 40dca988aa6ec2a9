"""Dominant datapoints and CKA's blind spot on small cases."""

import numpy as np
import pytest
import torch

from ckatools.analysis.datapoints import (
    PROBE_FALL,
    Translation,
    activation_norms,
    davari_checks,
    dominant,
    shared_source,
    translated,
    translation_sweep,
)
from ckatools.cka import linear_cka
from ckatools.models import resnet


def test_activation_norms_and_the_dominant_examples():
    torch.manual_seed(0)
    model = resnet(8, 0.25).eval()
    images = torch.rand(40, 3, 16, 16)
    images[7] *= 50  # one example far larger than the rest
    norms = activation_norms(model, images, ["input", "stage1.0.relu2"])
    assert norms.shape == (2, 40)
    centred = images.flatten(1) - images.flatten(1).mean(0)
    np.testing.assert_allclose(norms[0], centred.norm(dim=1).numpy(), rtol=1e-5)
    assert list(dominant(norms[0], 0.01)) == [7]  # 1 % of 40 rounds to 0: at least one
    assert len(dominant(norms[0], 0.1)) == 4


def test_translating_one_class_moves_cka_but_keeps_the_classes_apart():
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    x = rng.normal(size=(300, 20)) + 3 * np.eye(20)[labels]
    far = translated(x, labels == 0, 5.0)
    assert np.allclose(far[labels != 0], x[labels != 0])
    moved = far[labels == 0] - x[labels == 0]
    assert np.allclose(moved, moved[0])  # one shift for all moved examples
    assert linear_cka(x, far) < 0.5 < linear_cka(x, translated(x, labels == 0, 0.1))


def test_shared_source_finds_examples_cut_from_one_photograph():
    rng = np.random.default_rng(0)
    sources = rng.integers(9, size=2000)
    picked = np.flatnonzero(sources == 4)[:20]  # all from source 4
    best, share, base, check = shared_source(picked, sources)
    assert (best, share) == (4, 1.0) and base == pytest.approx(np.mean(sources == 4))
    assert check.state == "holds"
    best, share, base, check = shared_source(rng.choice(2000, 20, replace=False), sources)
    assert check.state == "cannot tell"  # a random draw shares nothing beyond chance


def test_a_translation_sweep_fools_linear_cka_and_not_a_probe_on_separable_classes():
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    x = rng.normal(size=(300, 20)) + 4 * np.eye(20)[labels]
    sweep = translation_sweep(x, labels, (0, 1, 8))
    assert [t.distance for t in sweep] == [0, 1, 8] and sweep[0].cka == pytest.approx(1.0)
    assert sweep[-1].cka < sweep[1].cka < 1 and len(sweep[0].correct) == 90  # the last 30 %
    assert sweep[0].accuracy == pytest.approx(sweep[0].correct.mean())
    assert [c.state for c in davari_checks(sweep).values()] == ["holds", "holds"]
    # a probe that loses half its images and a CKA that does not fall: both parts against
    ones = np.ones(200)
    fooled = [
        Translation(0.0, 1.0, 1.0, ones),
        Translation(4.0, 0.95, 0.5, np.r_[ones[:100], 0 * ones[100:]]),
    ]
    assert [c.state for c in davari_checks(fooled).values()] == ["against", "against"]
    assert "largest fall at any distance: 50.0 points" in list(davari_checks(fooled))[1]
    with pytest.raises(ValueError, match="distance 0"):
        davari_checks(fooled[1:])
    with pytest.raises(ValueError, match="at least the original"):
        davari_checks([])


def test_the_probe_part_is_paired_over_the_same_images_and_decides_where_unpaired_cannot():
    from ckatools.analysis.verdicts import mean_difference

    before = np.r_[np.ones(1600), np.zeros(400)]  # 80 % right
    after = before.copy()
    after[:70] = 0  # the same images, 70 of them now wrong: a fall of 3.5 points
    sweep = [
        Translation(0.0, 1.0, before.mean(), before),
        Translation(4.0, 0.5, after.mean(), after),
    ]
    paired = list(davari_checks(sweep).values())[1]
    # paired: only 70 images changed, so the fall is known to about +-0.8 points: below 5
    assert paired.state == "holds" and paired.uncertainty < 0.01
    # treated as two independent samples of n images the same numbers cannot tell
    unpaired = mean_difference(PROBE_FALL + after, before)  # Welch: PROBE_FALL - the fall
    assert unpaired.value == pytest.approx(paired.value) and unpaired.state == "cannot tell"


def test_the_block_appears_early_and_stays_in_most_later_snapshots():
    from ckatools.analysis.datapoints import STAYS, during_training_checks

    def states(present, early=4):
        return [c.state for c in during_training_checks(present, early).values()]

    late = {e: e >= 3 for e in range(1, 17)}
    assert states(late) == ["holds", "holds"]
    # one flickering epoch in 13 after onset: the earlier rule (every epoch) said no, STAYS holds
    flicker = {**late, 9: False}
    assert 12 / 13 >= STAYS and states(flicker) == ["holds", "holds"]
    assert "every snapshot after it: no" in list(during_training_checks(flicker, 4))[1]
    gone = {**late, 15: False, 16: False}  # and it must be there at the end
    assert states(gone) == ["holds", "against"]
    assert states({e: e >= 6 for e in range(1, 17)}) == ["against", "holds"]  # appears too late
    assert states(dict.fromkeys(range(1, 17), False)) == ["against", "against"]
    half = {e: e >= 3 and e % 2 == 0 for e in range(1, 17)}  # a block in 6 of the 12 later epochs
    assert states(half) == ["holds", "against"]
    with pytest.raises(ValueError, match="epoch 4"):
        during_training_checks({8: True, 12: True}, 4)
