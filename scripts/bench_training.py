#!/usr/bin/env python
"""Training throughput of nasga's networks, as a share of this machine's matmul speed.

For each network the script times full training steps (forward, backward, optimiser step) on
random data of the task's shape and reports:

* ``img/s`` — training images per second;
* ``GFLOP/s`` — achieved, counting ``2 × MACs × 3`` FLOPs per training image: thop's forward
  MACs (``nasga.evaluation.flops.measure``), 2 FLOPs per MAC, and backward ≈ 2 × forward (gradients with
  respect to activations and to weights), so one training image ≈ 3 forward passes;
* ``% peak`` — that rate over the float32 ``torch.matmul`` rate measured in the same run on
  2048×2048 matrices (``2·n³`` FLOPs per product; the better of a run before and one after the
  networks, so a busy neighbour process during one of them does not lower the reference).

Rows: a Genetic CNN on digits (paper 004 Table 1 genome, SGD, cross-entropy), a small and a
large 64×64 U-Net generator (channels all 16 vs pix2pix-like 64..512, depth 6, every skip;
Adam, L1), and each U-Net in the full pix2pix step of :class:`~nasga.tasks.TranslationTask`
(G + PatchGAN D, ndf 32). For that step the count is ``2 × (3·MACs_G + 8·MACs_D)`` per image:
D runs forward on the real and the fake pair and back through both (2 × 3), then forward and
back to its input for G's adversarial loss (≈ 2).

Usage: ``python scripts/bench_training.py [--device auto|cpu|cuda] [--seconds 3]`` (< 2 min on CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from nasga.cli import Parser, check_min  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.evaluation.flops import measure  # noqa: E402
from nasga.models import GeneticCNN, PatchGANDiscriminator, UNetGenerator  # noqa: E402
from nasga.spaces import GeneticCNNSpace, UNetGenome, UNetSpace  # noqa: E402
from nasga.tasks import _torch as T  # noqa: E402

SMALL_UNET = UNetGenome((16,) * 6, (1,) * 5)
LARGE_UNET = UNetGenome((64, 128, 256, 512, 512, 512), (1,) * 5)
TABLE1_GENOME = "1-01|0-01-111|0-11-010-0111"


def timed(step: Callable[[], None], device: torch.device, seconds: float) -> tuple[int, float]:
    """Run ``step`` once to warm up, then until ``seconds`` pass (at least 2 times)."""
    step()
    T.synchronize(device)
    n, start = 0, time.perf_counter()
    while n < 2 or time.perf_counter() - start < seconds:
        step()
        n += 1
    T.synchronize(device)
    return n, time.perf_counter() - start


def matmul_gflops(device: torch.device, seconds: float, n: int = 2048) -> float:
    """Measured float32 ``torch.matmul`` GFLOP/s on n×n matrices."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    steps, elapsed = timed(lambda: torch.matmul(a, b), device, seconds)
    return 2 * n**3 * steps / elapsed / 1e9


def model_step(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
               loss_fn: nn.Module, opt: torch.optim.Optimizer) -> Callable[[], None]:
    """One training step of ``model`` alone."""
    def step() -> None:
        loss = loss_fn(model(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def pix2pix_step(g_net: nn.Module, d_net: nn.Module, x: torch.Tensor,
                 y: torch.Tensor) -> Callable[[], None]:
    """One step of pix2pix's ``optimize_parameters`` (as in TranslationTask)."""
    opt_g = torch.optim.Adam(g_net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()

    def step() -> None:
        fake = g_net(x)
        d_net.requires_grad_(True)
        p_fake, p_real = d_net(torch.cat([x, fake.detach()], 1)), d_net(torch.cat([x, y], 1))
        loss_d = 0.5 * (bce(p_fake, torch.zeros_like(p_fake)) + bce(p_real, torch.ones_like(p_real)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        d_net.requires_grad_(False)
        p_fake = d_net(torch.cat([x, fake], 1))
        loss_g = bce(p_fake, torch.ones_like(p_fake)) + 100.0 * l1(fake, y)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return step


def _parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per row (default 3)")
    p.add_argument("--unet-batch", type=int, default=8, help="U-Net batch size (default 8)")
    p.add_argument("--cnn-batch", type=int, default=32, help="Genetic CNN batch size (default 32)")
    return p


def _args(argv: list[str] | None) -> tuple[argparse.Namespace, torch.device]:
    """The flags and the device, checked before anything runs (one line, exit code 2)."""
    p = _parser()
    args = p.parse_args(argv)
    check_min(p, 0, ("--seconds", args.seconds), strict=True)
    check_min(p, 1, ("--unet-batch", args.unet_batch), ("--cnn-batch", args.cnn_batch))
    try:
        return args, T.resolve_device(args.device)
    except NasgaInputError as exc:
        p.error(f"--device: {exc.message}")
        raise  # not reached: p.error exits


def main(argv: list[str] | None = None) -> int:
    args, device = _args(argv)
    T.seed_everything(0)
    start = time.perf_counter()
    peak_before = matmul_gflops(device, args.seconds)

    rows: list[tuple[str, int, float, float, int, float]] = []

    def bench(name: str, batch: int, macs: float, params: int, step: Callable[[], None]) -> None:
        steps, elapsed = timed(step, device, args.seconds)
        ips = steps * batch / elapsed
        rows.append((name, batch, macs, ips, params, 2 * macs * ips / 1e9))

    space = GeneticCNNSpace((3, 4, 5))
    cnn = GeneticCNN(space.parse(TABLE1_GENOME), in_channels=1, n_classes=10, image_size=8)
    cost = measure(cnn, (1, 8, 8))
    cnn = cnn.to(device).train()
    x = torch.randn(args.cnn_batch, 1, 8, 8, device=device)
    y = torch.randint(0, 10, (args.cnn_batch,), device=device)
    opt = torch.optim.SGD(cnn.parameters(), lr=0.01, momentum=0.9)
    bench("genetic-cnn digits 8x8", args.cnn_batch, 3 * cost.macs, cost.params,
          model_step(cnn, x, y, nn.CrossEntropyLoss(), opt))

    UNetSpace(depth=6).check_image_size(64)
    x = torch.rand(args.unet_batch, 3, 64, 64, device=device) * 2 - 1
    y = torch.rand(args.unet_batch, 3, 64, 64, device=device) * 2 - 1
    d_cost = measure(PatchGANDiscriminator(6, ndf=32), (6, 64, 64))
    for label, genome in (("small", SMALL_UNET), ("large", LARGE_UNET)):
        g_net = UNetGenerator(genome)
        g_cost = measure(g_net, (3, 64, 64))
        g_net = g_net.to(device).train()
        opt = torch.optim.Adam(g_net.parameters(), lr=2e-4, betas=(0.5, 0.999))
        bench(f"unet-{label} 64x64 (G, L1)", args.unet_batch, 3 * g_cost.macs, g_cost.params,
              model_step(g_net, x, y, nn.L1Loss(), opt))
        d_net = PatchGANDiscriminator(6, ndf=32).to(device).train()
        bench(f"unet-{label} pix2pix (G + D)", args.unet_batch,
              3 * g_cost.macs + 8 * d_cost.macs, g_cost.params + d_cost.params,
              pix2pix_step(g_net, d_net, x, y))

    peak_after = matmul_gflops(device, args.seconds)
    peak = max(peak_before, peak_after)
    threads = torch.get_num_threads() if device.type == "cpu" else "-"
    print(f"device {device} ({threads} threads); float32 matmul 2048x2048: {peak:.1f} GFLOP/s "
          f"(best of {peak_before:.1f} before, {peak_after:.1f} after)")
    print("training FLOPs per image = 2 x forward MACs x 3 (forward + backward)\n")
    print(f"{'network':30s} {'batch':>5s} {'train MMACs/img':>15s} {'params':>10s} "
          f"{'img/s':>9s} {'GFLOP/s':>8s} {'% peak':>7s}")
    for name, batch, macs, ips, params, gflops in rows:
        print(f"{name:30s} {batch:5d} {macs / 1e6:15.1f} {params:10,d} {ips:9.1f} "
              f"{gflops:8.2f} {100 * gflops / peak:6.1f}%")
    print("\n(train MMACs/img: forward MACs x 3; pix2pix rows add 8 x the PatchGAN's forward MACs;"
          f" PatchGAN ndf 32: {d_cost.macs / 1e6:.1f} MMACs/img)")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
