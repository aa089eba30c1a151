from __future__ import annotations

import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nasga.evaluation.flops import measure
from nasga.models import GeneticCNN, UNetGenerator
from nasga.spaces import GeneticCNNSpace, UNetSpace


def _flop_counter_macs(model: torch.nn.Module, shape: tuple[int, ...]) -> float:
    model.eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(torch.zeros(1, *shape))
    return fc.get_total_flops() / 2


def test_pix2pix_reference_cost() -> None:
    model = UNetGenerator(UNetSpace().reference_genome())
    cost = measure(model, (3, 256, 256))
    assert cost.params == 54_414_531
    assert cost.macs == pytest.approx(6.05e9, rel=0.01)
    assert cost.conv_macs == _flop_counter_macs(model, (3, 256, 256)) == 6_048_186_368
    assert cost.paper_macs == pytest.approx(18.15e9, rel=0.005)  # paper 000 Table 1: 18147M


@pytest.mark.parametrize("seed", range(4))
def test_random_genomes_agree_with_flop_counter(seed: int) -> None:
    rng = random.Random(seed)
    unet = UNetSpace(depth=5, channels=(8, 16, 32, 64))
    model = UNetGenerator(unet.random_genome(rng))
    assert measure(model, (3, 64, 64)).conv_macs == _flop_counter_macs(model, (3, 64, 64))
    gcnn = GeneticCNNSpace((3, 4, 5))
    model = GeneticCNN(gcnn.random_genome(rng))
    assert measure(model, (3, 32, 32)).conv_macs == _flop_counter_macs(model, (3, 32, 32))


def test_measure_leaves_model_untouched() -> None:
    model = UNetGenerator(UNetSpace(depth=4, channels=(8, 16)).reference_genome())
    model.train()
    keys = list(model.state_dict().keys())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure(model, (3, 32, 32))
    assert list(model.state_dict().keys()) == keys
    assert model.training
    assert all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    assert not any(hasattr(m, "total_ops") for m in model.modules())
