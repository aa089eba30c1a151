"""U-Net generator built from a :class:`~nasga.spaces.UNetGenome` (paper 000, §3.1–3.2).

Follows pix2pix's recursive ``UnetSkipConnectionBlock`` with BatchNorm (a convolution carries a bias
exactly when no norm follows it): LeakyReLU(0.2) before every encoder conv but the first, BatchNorm after
every encoder conv but the first and last, ReLU → ConvTranspose2d → BatchNorm in the decoder,
Dropout(0.5) in the three decoder blocks nearest the bottleneck (those pix2pix builds in its
``num_downs - 5`` loop), Tanh at the output. The genome's channel ``i`` is the encoder block
``i``'s ``inner_nc``; skip bit ``i`` decides whether block ``i + 1`` concatenates its input
(encoder output ``i``) onto its decoder output. With the genome
``64-128-256-512-512-512-512-512|1111111`` this is exactly pix2pix's ``unet_256``.
"""

from __future__ import annotations

import torch
from torch import nn

from nasga.spaces.genomes import UNetGenome


class UNetBlock(nn.Module):
    """One level of the recursive U-Net (pix2pix's ``UnetSkipConnectionBlock``).

    Args:
        outer_nc: Channels this block's decoder outputs.
        inner_nc: Channels of this block's encoder conv (the genome's channel gene).
        input_nc: Channels of this block's input.
        submodule: The next-inner block, or ``None`` for the innermost.
        outermost: Outermost block: no norm/activation before the conv, Tanh at the end.
        skip: Concatenate the block's input onto its output (the genome's skip bit).
        sub_out_nc: Channels the submodule outputs (``inner_nc`` × (1 + its skip)).
        use_dropout: Dropout(0.5) after the decoder norm.
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        *,
        input_nc: int,
        submodule: UNetBlock | None,
        outermost: bool = False,
        skip: bool = True,
        sub_out_nc: int | None = None,
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        innermost = submodule is None
        self.outermost = outermost
        self.skip = bool(skip) and not outermost
        # A conv carries a bias exactly when no BatchNorm follows it: the first and the innermost
        # encoder convs, and the output transposed conv. This gives unet_256's 54,414,531
        # parameters (docs/design.md, "The two genomes"); pix2pix's PyTorch port drops the two
        # encoder biases (-576).
        downconv = nn.Conv2d(
            input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=outermost or innermost
        )
        up_in = inner_nc if innermost else int(sub_out_nc or 2 * inner_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(up_in, outer_nc, kernel_size=4, stride=2, padding=1)
            layers: list[nn.Module] = [downconv]
            layers += [submodule] if submodule is not None else []
            layers += [nn.ReLU(True), upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(up_in, outer_nc, kernel_size=4, stride=2, padding=1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), downconv, nn.ReLU(True), upconv, nn.BatchNorm2d(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(up_in, outer_nc, kernel_size=4, stride=2, padding=1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), downconv, nn.BatchNorm2d(inner_nc), submodule]
            layers += [nn.ReLU(True), upconv, nn.BatchNorm2d(outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip:
            return torch.cat([x, self.model(x)], 1)
        return self.model(x)


class UNetGenerator(nn.Module):
    """Generator decoded from a genome (paper 000, Fig. 2).

    Args:
        genome: Channel and skip code.
        input_nc: Input image channels.
        output_nc: Output image channels.
        use_dropout: Dropout in the three decoder blocks nearest the bottleneck (pix2pix default).
    """

    def __init__(
        self, genome: UNetGenome, *, input_nc: int = 3, output_nc: int = 3, use_dropout: bool = True
    ) -> None:
        super().__init__()
        self.genome = genome
        ch, skips, depth = genome.channels, genome.skips, genome.depth
        block: UNetBlock | None = None
        sub_out = 0
        for i in range(depth - 1, -1, -1):
            outermost = i == 0
            outer = output_nc if outermost else ch[i - 1]
            skip = (not outermost) and bool(skips[i - 1])
            block = UNetBlock(
                outer,
                ch[i],
                input_nc=input_nc if outermost else ch[i - 1],
                submodule=block,
                outermost=outermost,
                skip=skip,
                sub_out_nc=sub_out or None,
                use_dropout=use_dropout and (not outermost) and i < depth - 1 and i >= depth - 4,
            )
            # What this block hands to its parent's upconv.
            sub_out = outer * (2 if skip else 1)
        assert block is not None
        self.model = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
