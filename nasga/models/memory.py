"""Memory a network will need, estimated without allocating it (PyTorch's ``meta`` device).

A genome that decodes can still be far too large to build or run at an image size (a U-Net at
262,144 pixels a side asks for 800 GB in its first convolution). :func:`estimate_memory`
builds the network on the ``meta`` device (shapes only, no storage) and runs one forward pass
there, summing the parameters and every leaf module's output: the activations a training keeps
for its backward pass. :func:`check_memory` turns an estimate above a bound into one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nasga.errors import NasgaInputError

GB = 1e9


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes of a network's parameters and of one image's activations (float32).

    Attributes:
        params: Parameter count.
        param_bytes: ``params × 4``.
        activation_bytes: Leaf-module outputs of one forward pass on one image, × 4 bytes.
    """

    params: int
    param_bytes: int
    activation_bytes: int

    def forward_bytes(self, batch: int = 1) -> int:
        """One forward pass (inference, thop's count): parameters + activations."""
        return self.param_bytes + batch * self.activation_bytes

    def training_bytes(self, batch: int) -> int:
        """A training step: parameters, gradients and two Adam moments, plus the activations
        (kept for backward) and their gradients for ``batch`` images."""
        return 4 * self.param_bytes + 2 * batch * self.activation_bytes


class CannotRun(ValueError):
    """The network cannot run on the input it was estimated on (e.g. an image too small for
    its poolings, or batch normalization over a single value): the message says why."""


def estimate_memory(build: Callable[[], nn.Module], input_shape: tuple[int, ...], *,
                    batch: int = 1, train: bool = False) -> MemoryEstimate:
    """Estimate the memory of the network ``build()`` returns, per image of ``input_shape``
    (C, H, W), allocating nothing (the network is built on the ``meta`` device).

    The forward pass runs ``batch`` images in evaluation mode, or in training mode (``train``),
    where batch normalization needs more than one value per channel.

    Raises:
        CannotRun: The forward pass fails on that input (PyTorch's reason, first line).
    """
    with torch.device("meta"):
        model = build()
    model.train(train)
    total = [0]

    def hook(_module: nn.Module, _inputs: object, output: object) -> None:
        if isinstance(output, torch.Tensor):
            total[0] += output.numel() * 4

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if next(m.children(), None) is None]
    try:
        with torch.no_grad():
            model(torch.empty((batch, *input_shape), device="meta"))
    except (RuntimeError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CannotRun(f"cannot run on {batch} x {tuple(input_shape)} inputs: "
                        f"{reason[:200]}") from None
    finally:
        for h in handles:
            h.remove()
    params = sum(p.numel() for p in model.parameters())
    return MemoryEstimate(params=params, param_bytes=params * 4,
                          activation_bytes=total[0] // batch)


def memory_limit(device: torch.device | str = "cpu") -> int:
    """The most bytes one network may need on ``device``: 80 % of the GPU's memory, or of
    this machine's physical memory for the CPU (64 GB where the OS does not say)."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        index = device.index if device.index is not None else torch.cuda.current_device()
        return int(0.8 * torch.cuda.get_device_properties(index).total_memory)
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        physical = 80 * 10**9
    return int(0.8 * physical)


def check_memory(needed: int, limit: int, *, what: str, field: str = "genome") -> None:
    """Raise a one-line :class:`NasgaInputError` when ``needed`` bytes exceed ``limit``."""
    if needed > limit:
        raise NasgaInputError(field, f"{what} needs about {needed / GB:,.1f} GB, over the "
                                     f"{limit / GB:,.1f} GB this machine allows; use a smaller "
                                     "image size, batch or genome")


__all__ = ["CannotRun", "MemoryEstimate", "check_memory", "estimate_memory", "memory_limit"]
