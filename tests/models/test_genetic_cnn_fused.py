"""FusedGeneticCNN (issue 28): K genomes as one masked network, each member bitwise its own
unfused GeneticCNN (§3.1.1 decoding, BatchNorm, dropout, SGD), a NaN member isolated."""

from __future__ import annotations

import copy
import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nasga.errors import NasgaInputError
from nasga.models import GeneticCNN
from nasga.models.genetic_cnn_fused import FusedDropout, FusedGeneticCNN
from nasga.spaces import GeneticCNNSpace

SPACE = GeneticCNNSpace((3, 4, 5))
TABLE1 = "1-01|0-01-111|0-11-010-0111"  # paper 004 Table 1
ZERO = "0-00|0-00-000|0-00-000-0000"  # every stage all-zero: one convolution each
ISOLATED = "1-00|0-00-000|1-00-000-0000"  # node 3 isolated in stage 1; 3, 4, 5 in stage 3
GENOMES = [TABLE1, ZERO, ISOLATED] + [
    SPACE.random_genome(random.Random(s)).to_string() for s in range(3)]
SHAPES = {"digits": (1, 8), "cifar": (3, 32)}


def _members(texts: list[str], shape: str, dropout: float = 0.0) -> list[GeneticCNN]:
    channels, size = SHAPES[shape]
    models = []
    for seed, text in enumerate(texts):
        torch.manual_seed(seed)
        models.append(GeneticCNN(SPACE.parse(text), in_channels=channels, image_size=size,
                                 dropout=dropout))
    return models


def _batches(k: int, shape: str, n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Member k's batch, and all stacked along channels as the fused network reads them."""
    channels, size = SHAPES[shape]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(k, n, channels, size, size, generator=gen)
    return x, x.transpose(0, 1).reshape(n, k * channels, size, size)


def _sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


@pytest.mark.parametrize("shape", ["digits", "cifar"])
def test_forward_is_each_members_own_bitwise(shape: str) -> None:
    models = _members(GENOMES, shape)
    fused = FusedGeneticCNN.from_models(models)
    x, stacked = _batches(len(models), shape)
    for mode in ("train", "eval"):
        fused.train(mode == "train")
        logits = fused(stacked)
        for k, model in enumerate(models):
            assert torch.equal(model.train(mode == "train")(x[k]), logits[k]), (mode, k)


@pytest.mark.parametrize("shape", ["digits", "cifar"])
def test_sgd_steps_give_each_members_own_weights_bitwise(shape: str) -> None:
    models = _members(GENOMES, shape)
    before = [copy.deepcopy(m) for m in models]
    fused = FusedGeneticCNN.from_models(models).train()
    fused_opt, opts = _sgd(fused), [_sgd(m.train()) for m in models]
    y = torch.arange(16) % 10
    for step in range(2):
        x, stacked = _batches(len(models), shape)
        x, stacked = x * (step + 1), stacked * (step + 1)
        fused_opt.zero_grad()
        logits = fused(stacked)
        torch.stack([F.cross_entropy(logits[k], y) for k in range(len(models))]).sum().backward()
        fused_opt.step()
        for k, (model, opt) in enumerate(zip(models, opts)):
            opt.zero_grad()
            F.cross_entropy(model(x[k]), y).backward()
            opt.step()
    for k, (model, start) in enumerate(zip(models, before)):
        fused.store_member(k, start)
        got, want = start.state_dict(), model.state_dict()
        assert got.keys() == want.keys()
        assert all(torch.equal(got[name], want[name]) for name in want), k


def test_nodes_follow_the_decoding_rules_as_masks() -> None:
    fused = FusedGeneticCNN.from_models(_members([ISOLATED, TABLE1], "digits"))
    stage1, stage3 = fused.features[0], fused.features[4]
    assert set(stage1.nodes) == {"1", "2", "3"}  # node 3 is Table 1's, isolated in member 0
    assert set(stage3.nodes) == {"1", "2", "3", "4", "5"}
    x, stacked = _batches(2, "digits")
    fused.train()
    fused(stacked)[0].sum().backward()
    for stage, node in ((stage1, "3"), (stage3, "4")):
        conv = stage.nodes[node][0]
        assert torch.count_nonzero(conv.weight[:8]) == 0  # member 0's slice: never loaded
        assert torch.count_nonzero(conv.weight.grad[:8]) == 0  # and never gets a gradient
    only_zero = FusedGeneticCNN.from_models(_members([ZERO, ZERO], "digits"))
    assert all(s.output_node is None and len(s.nodes) == 0
               for s in only_zero.features[::2])  # all-zero stages: one convolution


def test_a_nan_member_leaves_the_others_bitwise_unchanged() -> None:
    models = _members(GENOMES[:3], "digits")
    clean = FusedGeneticCNN.from_models(models).train()
    poisoned = FusedGeneticCNN.from_models(models).train()
    with torch.no_grad():
        poisoned.out.bias[1].fill_(float("nan"))
    x, stacked = _batches(3, "digits")
    y = torch.arange(16) % 10
    for net in (clean, poisoned):
        logits = net(stacked)
        torch.stack([F.cross_entropy(logits[k], y) for k in range(3)]).sum().backward()
    assert torch.isnan(poisoned(stacked)[1]).all()
    for k in (0, 2):
        assert torch.equal(clean(stacked)[k], poisoned(stacked)[k])
    for (name, a), b in zip(clean.named_parameters(), poisoned.parameters()):
        rows = a.grad.shape[0] // 3 if a.dim() < 3 or "features" in name else 1
        for k in (0, 2):
            assert torch.equal(a.grad[k * rows:(k + 1) * rows], b.grad[k * rows:(k + 1) * rows]), name


def test_dropout_masks_are_nn_dropouts_from_each_members_generator() -> None:
    x = torch.randn(3, 8, 32)
    gens = []
    for seed in (5, 6, 7):
        torch.manual_seed(seed)
        gens.append(torch.Generator().set_state(torch.get_rng_state()))
    drop = FusedDropout(0.5).train()
    drop.generators = gens
    got = drop(x)
    for k, seed in enumerate((5, 6, 7)):
        torch.manual_seed(seed)
        assert torch.equal(got[k], nn.Dropout(0.5).train()(x[k]))
    assert torch.equal(drop.eval()(x), x)


def test_members_of_other_layouts_are_refused() -> None:
    small = GeneticCNN(GeneticCNNSpace((3, 4)).parse("1-01|0-01-111"), in_channels=1,
                       image_size=8, filters=(8, 8))
    with pytest.raises(NasgaInputError) as info:
        FusedGeneticCNN.from_models(_members([TABLE1], "digits") + [small])
    assert info.value.field == "models"
    with pytest.raises(NasgaInputError) as info:
        FusedGeneticCNN.from_models(_members([TABLE1], "digits") + _members([ZERO], "cifar"))
    assert info.value.field == "models"
