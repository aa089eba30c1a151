from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from nasga.models import GeneticCNN
from nasga.models.genetic_cnn import Stage
from nasga.spaces import GeneticCNNSpace
from tests.helpers import TABLE1


def _convs(module: nn.Module) -> int:
    return sum(isinstance(m, nn.Conv2d) for m in module.modules())


@pytest.mark.parametrize("text", TABLE1)
def test_table1_networks_give_ten_logits(text: str) -> None:
    model = GeneticCNN(GeneticCNNSpace().parse(text))
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)


def test_stage_layers_follow_decoding_rules() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    model = GeneticCNN(space.parse("1-00|0-00-000|1-11-111-1111"))
    stages = [m for m in model.features if isinstance(m, Stage)]
    assert [_convs(s) for s in stages] == [4, 1, 7]  # isolated dropped; empty = one conv
    assert set(stages[0].nodes.keys()) == {"1", "2"}


def test_sources_read_default_input_and_sinks_feed_output() -> None:
    space = GeneticCNNSpace((3,))
    model = GeneticCNN(space.parse("0-11"), in_channels=1, image_size=8).eval()  # 1->3, 2->3
    stage = model.features[0]
    seen: dict[str, torch.Tensor] = {}
    stage.input_node.register_forward_hook(lambda m, a, y: seen.__setitem__("in", y))

    def record(name: str):
        def hook(module: nn.Module, args: tuple, y: torch.Tensor) -> None:
            seen[f"x{name}"], seen[f"y{name}"] = args[0], y

        return hook

    for n in ("1", "2", "3"):
        stage.nodes[n].register_forward_hook(record(n))
    stage.output_node.register_forward_hook(lambda m, a, y: seen.__setitem__("out_in", a[0]))
    model(torch.randn(2, 1, 8, 8))
    assert torch.equal(seen["x1"], seen["in"]) and torch.equal(seen["x2"], seen["in"])
    assert torch.allclose(seen["x3"], seen["y1"] + seen["y2"])
    assert torch.equal(seen["out_in"], seen["y3"])


def test_configurable_channels_classes_filters() -> None:
    space = GeneticCNNSpace((2, 3))
    rng = random.Random(0)
    model = GeneticCNN(space.random_genome(rng), in_channels=1, n_classes=7, filters=(4, 6),
                       image_size=8)
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 7)
