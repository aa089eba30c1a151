from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from nasga.models import PatchGANDiscriminator, UNetGenerator
from nasga.spaces import UNetSpace


def test_reference_genome_is_unet_256() -> None:
    model = UNetGenerator(UNetSpace().reference_genome())
    n = sum(p.numel() for p in model.parameters())
    assert n == 54_414_531
    assert round(n * 4 / 2**20) == 208  # the paper's "Original 208MB"
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 3
    assert isinstance(list(model.modules())[-1], nn.Tanh)


@pytest.mark.parametrize("depth,size", [(5, 32), (6, 64), (5, 96), (7, 128), (8, 256)])
def test_random_genomes_keep_spatial_size(depth: int, size: int) -> None:
    space = UNetSpace(depth=depth, channels=(8, 16, 32))
    rng = random.Random(depth)
    for _ in range(3):
        g = space.random_genome(rng)
        model = UNetGenerator(g, input_nc=3, output_nc=2)
        y = model(torch.randn(2, 3, size, size))
        assert y.shape == (2, 2, size, size)
        assert y.abs().max() <= 1.0  # Tanh


def test_skip_bits_change_decoder_inputs() -> None:
    space = UNetSpace(depth=4, channels=(8, 16, 32))
    def ups(g):  # decoder input channels, outermost layer first
        convs = [m for m in UNetGenerator(g).modules() if isinstance(m, nn.ConvTranspose2d)]
        return [m.in_channels for m in reversed(convs)]

    assert ups(space.parse("8-16-32-32|111")) == [16, 32, 64, 32]
    assert ups(space.parse("8-16-32-32|000")) == [8, 16, 32, 32]
    assert ups(space.parse("8-16-32-32|100")) == [16, 16, 32, 32]


def test_patchgan_70x70_layout() -> None:
    d = PatchGANDiscriminator(input_nc=6)
    assert sum(p.numel() for p in d.parameters()) == 2_768_705  # pix2pix's basic D
    assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)
