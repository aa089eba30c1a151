"""K members' layers as one kernel, each member's numbers bitwise its unfused layer's (issue 28).

Training is chaotic enough that one rounding difference per step grows, within a few hundred
SGD steps, into validation accuracies several points apart (measured: the unfused training
itself moves that much between 1 and 2 threads). "Fused equals alone" therefore needs every
member's products to round exactly as its unfused network's do, at the same thread count.

* :class:`FusedConv2d`: K bias-free 3×3 convolutions (padding 1) as one grouped convolution.
  On CPU, for each product (output, input gradient, weight gradient), shape and thread count,
  :func:`conv_plan` tries once on random numbers, in order: the grouped kernel over the whole
  batch; for the weight gradient, the grouped kernel per batch chunk, one chunk per thread,
  summed (oneDNN splits a convolution's weight gradient over the batch between its threads);
  and member by member (the unfused kernel itself). The first that equals member by member,
  bitwise, is used from then on.
* :class:`FusedLinear`: K linear layers as one ``baddbmm``, with ``nn.Linear``'s weight-gradient
  product (``gᵀ·x``) per member.

On other devices the grouped kernels are used as they are (no bitwise claim).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

_CONV: dict[str, Any] = dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], transposed=False,
                             output_padding=[0, 0])
#: How each product is computed: "grouped", "chunks" (weight gradient only) or "members".
Plan = tuple[str, str, str]
_PLANS: dict[tuple, Plan] = {}


class FusedConv2d(nn.Module):
    """K members' bias-free 3×3 convolutions (padding 1) as one grouped convolution.

    Attributes:
        weight: ``(K·out_ch, in_ch, 3, 3)``; member ``k``: rows ``[k·out_ch, (k+1)·out_ch)``.
    """

    def __init__(self, k: int, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.k = k
        self.weight = nn.Parameter(torch.zeros(k * out_ch, in_ch, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return nn.functional.conv2d(x, self.weight, padding=1, groups=self.k)
        return _ExactConv.apply(x, self.weight, self.k)


def _backward(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor, groups: int,
              which: int) -> torch.Tensor:
    """One product of autograd's ``convolution_backward``: 0 = input, 1 = weight gradient."""
    mask = [which == 0, which == 1, False]
    return torch.ops.aten.convolution_backward(g, x, w, None, groups=groups, output_mask=mask,
                                               **_CONV)[which]


def _members(k: int, *tensors_dims: tuple[torch.Tensor, int]) -> list[list[torch.Tensor]]:
    """Each member's contiguous slices of ``(tensor, channel dim)`` pairs."""
    return [[t.contiguous() for t in parts]
            for parts in zip(*(t.chunk(k, dim) for t, dim in tensors_dims))]


def conv_forward(x: torch.Tensor, w: torch.Tensor, k: int, how: str) -> torch.Tensor:
    """The fused convolution's output, ``how`` = "grouped" or "members"."""
    if how == "grouped":
        return nn.functional.conv2d(x, w, padding=1, groups=k)
    return torch.cat([nn.functional.conv2d(xi, wi, padding=1)
                      for xi, wi in _members(k, (x, 1), (w, 0))], 1)


def conv_grad(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor, k: int, which: int,
              how: str) -> torch.Tensor:
    """Input (``which`` 0) or weight (1) gradient, ``how`` = "grouped", "chunks" or "members"."""
    g = g.contiguous()
    if how == "grouped":
        return _backward(g, x, w, k, which)
    if how == "chunks":
        n = torch.get_num_threads()
        parts = [_backward(gc.contiguous(), xc.contiguous(), w, k, which)
                 for gc, xc in zip(g.chunk(n), x.chunk(n))]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    grads = [_backward(gi, xi, wi, 1, which) for gi, xi, wi in _members(k, (g, 1), (x, 1), (w, 0))]
    return torch.cat(grads, 1 - which)


def conv_plan(x_shape: torch.Size, w_shape: torch.Size, k: int) -> Plan:
    """How to compute each product bitwise as member by member, at this shape and thread count
    (probed once on random numbers; see the module docstring)."""
    key = (tuple(x_shape), tuple(w_shape), k, torch.get_num_threads())
    if key not in _PLANS:
        gen = torch.Generator().manual_seed(0)
        x, w = torch.randn(x_shape, generator=gen), torch.randn(w_shape, generator=gen)
        y = conv_forward(x, w, k, "members")
        g = torch.randn(y.shape, generator=gen)
        forward = "grouped" if torch.equal(conv_forward(x, w, k, "grouped"), y) else "members"
        grads = []
        for which, candidates in ((0, ("grouped",)), (1, ("grouped", "chunks"))):
            reference = conv_grad(g, x, w, k, which, "members")
            grads.append(next((c for c in candidates
                               if torch.equal(conv_grad(g, x, w, k, which, c), reference)),
                              "members"))
        _PLANS[key] = (forward, grads[0], grads[1])
    return _PLANS[key]


class _ExactConv(torch.autograd.Function):
    """:class:`FusedConv2d` on CPU, each product as :func:`conv_plan` says."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, k: int) -> torch.Tensor:
        plan = conv_plan(x.shape, weight.shape, k)
        ctx.save_for_backward(x, weight)
        ctx.k, ctx.plan = k, plan
        return conv_forward(x, weight, k, plan[0])

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        gi = conv_grad(g, x, weight, ctx.k, 0, ctx.plan[1]) if need[0] else None
        gw = conv_grad(g, x, weight, ctx.k, 1, ctx.plan[2]) if need[1] else None
        return gi, gw, None


class FusedLinear(nn.Module):
    """K linear layers as one batched matmul: ``(K, B, in) → (K, B, out)``.

    Attributes:
        weight: ``(K, out, in)``.
        bias: ``(K, out)``.
    """

    def __init__(self, k: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(k, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))
        return _BatchedLinear.apply(x, self.weight, self.bias)


class _BatchedLinear(torch.autograd.Function):
    """``baddbmm`` with ``nn.Linear``'s (addmm's) gradients per member: the weight gradient is
    ``gᵀ·x`` member by member (``bmm``'s own backward computes ``(xᵀ·g)ᵀ``, and a batched
    product may split its work between threads differently from ``mm``)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw = torch.stack([gk.t().mm(xk.contiguous()) for gk, xk in zip(g, x)]) if need[1] else None
        return (g.bmm(weight) if need[0] else None, gw, g.sum(1) if need[2] else None)
