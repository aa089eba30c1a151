"""MACs and parameters of a network, measured with thop (``ultralytics-thop``).

thop counts multiply-accumulates (MACs), not FLOPs (1 MAC ≈ 2 FLOPs), so nasga says MACs.
Counting always happens on a deep copy: thop attaches hooks and counters to the modules it
profiles, and the model passed in must come back unchanged (same ``state_dict`` keys, mode).

``paper_macs`` reproduces the convention of the old ``thop`` 0.1.1 wheel that paper 000's
Table 1 used (pix2pix "18147M"): every convolution, transposed ones included, counted as
output elements × input channels × kernel area (+1 with a bias), and BatchNorm as 2 per
element. For a stride-2 transposed convolution that is 4× its true MACs. Fitness never uses it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Cost:
    """Compute cost of one forward pass on a single input.

    Attributes:
        macs: thop's total MACs per image (the fitness's ``p(q)``, paper 000 eq. 7).
        conv_macs: MACs of convolutions, transposed convolutions and linear layers alone: the
            part ``torch.utils.flop_counter.FlopCounterMode`` also counts (its FLOPs / 2).
        paper_macs: The old thop 0.1.1 count (see module docstring), for paper 000 Table 1.
        params: Trainable and frozen parameters.
    """

    macs: float
    conv_macs: float
    paper_macs: float
    params: int

    @property
    def size_mb(self) -> float:
        """Parameter memory in MB as float32 (``params × 4 / 2^20``, the paper's "208MB")."""
        return self.params * 4 / 2**20


def _input(model: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    p = next(model.parameters(), None)
    device = p.device if p is not None else torch.device("cpu")
    return torch.zeros((1, *input_shape), device=device)


def count_params(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


def measure(model: nn.Module, input_shape: tuple[int, ...]) -> Cost:
    """MACs (thop), convolution MACs, paper-convention MACs and parameters per image.

    Args:
        model: The network; left untouched (profiled on a deep copy in eval mode).
        input_shape: One input's shape without the batch dimension, e.g. ``(3, 256, 256)``.
    """
    import thop
    from thop.vision.basic_hooks import count_convNd, count_convtNd, count_linear

    dup = copy.deepcopy(model).eval()
    x = _input(dup, input_shape)
    parts = {"conv": 0.0}

    def tracking(fn):
        def hook(m, args, y):
            before = m.total_ops
            fn(m, args, y)
            parts["conv"] += float(m.total_ops - before)

        return hook

    custom = {
        nn.Conv1d: tracking(count_convNd),
        nn.Conv2d: tracking(count_convNd),
        nn.Conv3d: tracking(count_convNd),
        nn.ConvTranspose1d: tracking(count_convtNd),
        nn.ConvTranspose2d: tracking(count_convtNd),
        nn.ConvTranspose3d: tracking(count_convtNd),
        nn.Linear: tracking(count_linear),
    }
    with torch.no_grad():
        macs, _ = thop.profile(dup, inputs=(x,), custom_ops=custom, verbose=False)
    return Cost(
        macs=float(macs),
        conv_macs=parts["conv"],
        paper_macs=paper_macs(model, input_shape),
        params=count_params(model),
    )


def paper_macs(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """MACs in the old thop 0.1.1 convention (paper 000 Table 1's "FLOPs").

    Convolutions and transposed convolutions: ``y.numel() × (in_channels / groups × kernel area
    + bias)``; BatchNorm: ``2 × x.numel()``; linear: ``in_features × y.numel()``; nothing else.
    """
    dup = copy.deepcopy(model).eval()
    total = [0.0]

    def conv(m: nn.modules.conv._ConvNd, args, y: torch.Tensor) -> None:
        kernel = m.weight.shape[2:].numel()
        total[0] += y.numel() * (m.in_channels // m.groups * kernel + (m.bias is not None))

    def norm(m: nn.Module, args, y: torch.Tensor) -> None:
        total[0] += 2 * args[0].numel()

    def linear(m: nn.Linear, args, y: torch.Tensor) -> None:
        total[0] += m.in_features * y.numel()

    handles = []
    for m in dup.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            handles.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            handles.append(m.register_forward_hook(norm))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear))
    with torch.no_grad():
        dup(_input(dup, input_shape))
    for h in handles:
        h.remove()
    return total[0]
