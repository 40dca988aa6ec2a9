"""The ResNet family: architecture facts from the official code, the representation list, block
deletion.
"""

import subprocess
import sys

import pytest
import torch

from ckatools.models import Projection, delete_blocks, resnet
from ckatools.training import cpu_has_bf16


@pytest.mark.parametrize("depth", [14, 20, 38])
def test_representation_counts(depth):
    n = (depth - 2) // 6
    reps = resnet(depth).representations()
    assert len(reps) == 9 + 21 * n
    assert [r.index for r in reps] == list(range(len(reps)))
    assert sum(r.post_residual for r in reps) == sum(r.pre_residual for r in reps) == 3 * n
    assert sum(r.kind == "projection" for r in reps) == 2
    assert len(resnet(depth, residual=False).representations()) == 7 + 18 * n


def test_published_counts_for_deep_networks():
    assert len(resnet(110).representations()) == 387
    assert len(resnet(164).representations()) == 576


def test_resnet20_parameter_count():
    params = sum(p.numel() for p in resnet(20).parameters())
    assert 0.26e6 < params < 0.28e6  # the classic ResNet-20 has 0.27 M parameters


def test_widths_follow_official_rounding():
    model = resnet(14, 0.25)
    assert [s[0].conv1.out_channels for s in model.stages] == [4, 8, 16]
    assert model.stem.conv.out_channels == 4
    assert resnet(14, 2).fc.in_features == 128


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32), (2, 3, 8, 8)])
def test_output_shapes(shape):
    model = resnet(14, 0.5, in_channels=shape[1], num_classes=7)
    assert model(torch.randn(shape)).shape == (2, 7)


def test_invalid_depth_names_nearest_valid_depths():
    with pytest.raises(ValueError, match="nearest valid: 20 and 26"):
        resnet(21)
    with pytest.raises(ValueError, match="got 5; nearest valid: 8$"):
        resnet(5)
    with pytest.raises(ValueError, match="width must be positive"):
        resnet(20, 0)


@pytest.mark.parametrize("residual", [True, False])
def test_every_representation_is_a_submodule_output_in_execution_order(residual):
    model = resnet(14, 0.5, residual=residual)
    reps = model.representations()
    calls, handles = [], []
    for r in reps[1:]:
        module = model.get_submodule(r.name)
        handles.append(
            module.register_forward_hook(lambda m, i, o, name=r.name: calls.append(name))
        )
    model(torch.randn(2, 3, 16, 16))
    assert calls == [r.name for r in reps[1:]]


def test_stages_and_residual_roles():
    reps = resnet(14).representations()
    pre = [r.name for r in reps if r.pre_residual]
    post = [r.name for r in reps if r.post_residual]
    assert pre[0] == "stage1.0.bn2" and post[-1] == "stage3.1.relu2"
    assert {r.stage for r in reps} == {None, 1, 2, 3}


def test_official_architecture_details():
    model = resnet(20)
    bn = model.stem.bn
    assert bn.eps == 1e-3 and bn.momentum == pytest.approx(0.01)
    proj = model.stage2[0].projection
    assert proj.kernel_size == (1, 1) and proj.stride == (2, 2) and proj.bias is not None
    assert model.stage1[0].projection is None and model.stage2[1].projection is None
    assert all(m.bias is not None for m in model.modules() if isinstance(m, torch.nn.Conv2d))


@pytest.mark.parametrize("batch", [1, 5, 6])
def test_projection_equals_the_strided_convolution(batch):
    """Odd batches take every second pixel into a stride-1 convolution: the same products."""
    torch.manual_seed(0)
    projection = Projection(8, 16, 2).double()
    x = torch.randn(batch, 8, 7, 7, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, projection.weight, projection.bias, stride=2)
    assert projection(x).shape == (batch, 16, 4, 4)
    torch.testing.assert_close(projection(x), expected, rtol=1e-12, atol=1e-12)


ODD_BATCH_STEP = """
import torch
from ckatools.models import resnet
model = resnet(8, 0.5).to(memory_format=torch.channels_last)  # an 8-channel projection
x = torch.randn(125, 3, 28, 28).clone(memory_format=torch.channels_last)
for _ in range(3):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    out.float().sum().backward()
"""


@pytest.mark.skipif(not cpu_has_bf16(), reason="needs a CPU with native bfloat16")
def test_bfloat16_training_step_on_an_odd_batch():
    """The step that corrupted the heap in oneDNN's strided 1x1 kernel (see ``Projection``), run
    in its own process: a crash there is a failed test here, not a dead test run."""
    done = subprocess.run([sys.executable, "-c", ODD_BATCH_STEP], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_he_normal_initialization_scale():
    torch.manual_seed(0)
    conv = resnet(20, 4).stage3[1].conv1  # 256 channels in, fan_in = 2304
    expected = (2 / conv.weight[0].numel()) ** 0.5
    assert conv.weight.std().item() == pytest.approx(expected, rel=0.02)


def test_block_deletion_keeps_shapes_and_prefix():
    torch.manual_seed(0)
    model = resnet(20).eval()
    pruned = delete_blocks(model, 2, 2).eval()
    assert len(pruned.stage2) == 1 and len(model.stage2) == 3  # the original is untouched
    assert pruned.depth == 16
    x = torch.randn(3, 3, 32, 32)
    assert pruned(x).shape == model(x).shape
    h = model.stage1(model.stem(x))
    torch.testing.assert_close(pruned.stage2(h), model.stage2[0](h))


def test_deleting_a_block_with_no_residual_branch_changes_nothing():
    torch.manual_seed(0)
    model = resnet(20).eval()
    last = model.stage3[2]
    torch.nn.init.zeros_(last.bn2.weight)
    torch.nn.init.zeros_(last.bn2.bias)  # the block now adds zero: relu(x + 0) = x for x >= 0
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(delete_blocks(model, 3, 1).eval()(x), model(x))


def test_block_deletion_errors():
    model = resnet(20)
    with pytest.raises(ValueError, match="stage 2 has 2 removable blocks"):
        delete_blocks(model, 2, 3)
    assert len(delete_blocks(model, 1, 3).stage1) == 0  # stage 1 starts with an identity block
    with pytest.raises(ValueError, match="stage must be"):
        delete_blocks(model, 4, 1)
    with pytest.raises(ValueError, match="plain network"):
        delete_blocks(resnet(20, residual=False), 1, 1)


def test_parameter_count_without_weights_matches_a_real_model():
    from ckatools.models import parameter_count

    for depth, width in ((20, 1), (14, 0.5), (8, 2)):
        assert parameter_count(depth, width, in_channels=1) == sum(
            p.numel() for p in resnet(depth, width, in_channels=1).parameters()
        )


def test_truncated_normal_constant_is_the_std_of_a_unit_normal_cut_at_two():
    import math

    from ckatools.models import TRUNCATED_NORMAL_STD

    pdf2 = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert TRUNCATED_NORMAL_STD == pytest.approx(math.sqrt(1 - 4 * pdf2 / mass), rel=1e-12)
    torch.manual_seed(0)
    w = resnet(8, width=4).stage3[0].conv2.weight  # 256 x 256 x 3 x 3, fan_in = 256 * 9
    assert w.std().item() == pytest.approx(math.sqrt(2 / (256 * 9)), rel=0.01)


def test_table_b1_matches_the_papers_text():
    from pathlib import Path

    from ckatools.book.paper import TABLE_B1

    text = Path(__file__).resolve().parents[2] / "shared/paper/iclr2021-full-paper.txt"
    if not text.exists():
        pytest.skip("the paper's text (../shared/paper) is not beside this checkout")
    rows = set(text.read_text().split("Table B.1:")[1].split("C Block Structure")[0].splitlines())
    for (depth, width), (c10, c100) in TABLE_B1.items():
        if depth in (14, 20, 26, 38):  # the wide grid's rows carry depth and width
            assert f"{depth}\t{width}\t{c10}\t{c100}" in rows, (depth, width)
    assert len(TABLE_B1) == 25 and TABLE_B1[(110, 1)] == (94.3, 74.0)
