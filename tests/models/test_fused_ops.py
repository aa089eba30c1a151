"""Fused layers (issue 28): each member's output and gradients bitwise its own layer's, at 1 and
2 threads, whichever kernel conv_plan picks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from nasga.models.fused_ops import FusedConv2d, FusedLinear, conv_plan

K = 3


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


@pytest.mark.parametrize("in_ch, out_ch, size, batch", [
    (1, 8, 8, 32), (3, 8, 32, 8), (8, 8, 4, 30), (8, 16, 2, 32)])
def test_conv_is_each_members_own_bitwise(threads: int, in_ch: int, out_ch: int, size: int,
                                          batch: int) -> None:
    gen = torch.Generator().manual_seed(0)
    fused = FusedConv2d(K, in_ch, out_ch)
    alone = [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False) for _ in range(K)]
    with torch.no_grad():
        for k, conv in enumerate(alone):
            fused.weight[k * out_ch:(k + 1) * out_ch] = conv.weight
    x = torch.randn(batch, K * in_ch, size, size, generator=gen, requires_grad=True)
    y = fused(x)
    g = torch.randn(y.shape, generator=gen)
    y.backward(g)
    for k, conv in enumerate(alone):
        xk = x.detach()[:, k * in_ch:(k + 1) * in_ch].contiguous().requires_grad_()
        yk = conv(xk)
        yk.backward(g[:, k * out_ch:(k + 1) * out_ch].contiguous())
        rows = slice(k * out_ch, (k + 1) * out_ch)
        assert torch.equal(y[:, rows], yk)
        assert torch.equal(x.grad[:, k * in_ch:(k + 1) * in_ch], xk.grad)
        assert torch.equal(fused.weight.grad[rows], conv.weight.grad)
    plan = conv_plan(x.shape, fused.weight.shape, K)
    assert plan[0] in ("grouped", "members") and plan[1] in ("grouped", "members")
    assert plan[2] in ("grouped", "chunks", "members")


def test_linear_is_each_members_own_bitwise(threads: int) -> None:
    gen = torch.Generator().manual_seed(0)
    fused = FusedLinear(K, 64, 10)
    alone = [nn.Linear(64, 10) for _ in range(K)]
    with torch.no_grad():
        for k, lin in enumerate(alone):
            fused.weight[k], fused.bias[k] = lin.weight, lin.bias
    x = torch.randn(32, K, 64, generator=gen).transpose(0, 1).requires_grad_()  # as the net's
    y = fused(x)
    g = torch.randn(y.shape, generator=gen)
    y.backward(g)
    for k, lin in enumerate(alone):
        xk = x.detach()[k].contiguous().requires_grad_()
        yk = lin(xk)
        yk.backward(g[k])
        assert torch.equal(y[k], yk) and torch.equal(x.grad[k], xk.grad)
        assert torch.equal(fused.weight.grad[k], lin.weight.grad)
        assert torch.equal(fused.bias.grad[k], lin.bias.grad)
