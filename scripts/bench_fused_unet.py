#!/usr/bin/env python
"""Trainings per hour of the U-Net task: K pix2pix trainings fused with ``torch.func.vmap``.

Issue 28, part 3: whether fusing U-Net genomes pays, measured before anything is shipped.
U-Net genomes differ in channel counts and skips, so K of them are made one shape first:

* ``skips``: K genomes that share one channel code (a random genome's) and differ in their
  skip bits. Each member is the all-skips network of that code; a skip that is off feeds the
  decoder zeros (a mask on the concatenated half), so it trains the same function at the cost
  of the all-skips network.
* ``padded``: K random genomes, every channel gene padded to the widest choice with channel
  masks (Once-for-All's idea): each masked channel is zero after its block, at the compute
  cost of the all-widest network.

The K generators and their K PatchGAN discriminators are stacked
(``torch.func.stack_module_state``) and each pix2pix step runs once for all of them through
``torch.func.vmap`` of ``functional_call`` (convolutions with per-member weights become grouped
convolutions, as in HFTA); one Adam over the stacked tensors is K independent Adams, since Adam
is elementwise. Each member keeps its own data order, dropout and losses. BatchNorm uses batch
statistics only (``replace_all_batch_norm_modules_``: vmap cannot update running statistics
in place), so this is a throughput benchmark, not the fused-equals-alone contract.

One at a time is the task itself: ``TranslationTask.evaluate`` on the same genomes (genome
``i`` with seed ``i``), timed by its own ``train_seconds`` (the training loop only). Each fused
row trains a mode's first K genomes and times its training loop the same way (same epochs,
minibatches, Adam settings and autocast; no validation). Columns: ``alone s`` (those K
genomes one at a time), ``fused s``, trainings per hour of each, ``ratio`` (alone s over
fused s) and ``MACs x`` (the shape's generator MACs over the K genomes' mean: the compute a
member pays for being made one shape).

Usage: ``python scripts/bench_fused_unet.py [--threads 2] [--ks 1,2,4,8] [--device cpu]`` on
the default U-Net study (photos grey2colour, 64x64, depth 6, channels 16/32/64/128, 5
mini-epochs of 64 crops, batch 8); about 5 min on 2 quiet cores.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.func import functional_call, replace_all_batch_norm_modules_, stack_module_state, vmap  # noqa: E402

from nasga.bench.machine import cpu_model  # noqa: E402
from nasga.cli import Parser, check_min, int_list  # noqa: E402
from nasga.compare.runs import task_config  # noqa: E402
from nasga.models import PatchGANDiscriminator, UNetGenerator  # noqa: E402
from nasga.models.unet import UNetBlock  # noqa: E402
from nasga.search.settings import Settings  # noqa: E402
from nasga.spaces import UNetGenome  # noqa: E402
import nasga.tasks._torch as T  # noqa: E402
import nasga.tasks.pix2pix_losses as P  # noqa: E402

MODES = ("skips", "padded")


def _args(argv: list[str] | None) -> argparse.Namespace:
    """The flags, checked before anything runs (one line, exit code 2)."""
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--ks", type=int_list("ks"), default=(1, 2, 4, 8),
                   help="fused group sizes (default 1,2,4,8)")
    p.add_argument("--epochs", type=int, default=None,
                   help="mini-epochs (default: the study's, 5)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random genomes (default 0)")
    args = p.parse_args(argv)
    check_min(p, 1, ("--threads", args.threads), ("--ks", args.ks),
              ("--epochs", args.epochs))
    check_min(p, 0, ("--seed", args.seed))
    return args


class MaskedUNet(nn.Module):
    """A U-Net generator of one shape whose member genome is set by mask buffers.

    Each level's encoder output and decoder output carry a ``ch_mask`` (zeroing the channels a
    narrower gene does not have); each block with a skip carries a ``skip_mask`` (zeroing the
    concatenated half when the member's skip is off). The masks are buffers of the hooked
    modules themselves, so ``functional_call`` swaps them per member under ``vmap``.
    """

    def __init__(self, shape: UNetGenome, *, input_nc: int, output_nc: int) -> None:
        super().__init__()
        self.net = UNetGenerator(shape, input_nc=input_nc, output_nc=output_nc)
        blocks = [m for m in self.net.modules() if isinstance(m, UNetBlock)]  # outermost first
        self._levels: list[tuple[nn.Module, nn.Module | None, UNetBlock]] = []
        for i, block in enumerate(blocks):
            layers = list(block.model)
            down = next(m for m in layers if type(m) is nn.Conv2d)
            after = layers[layers.index(down) + 1]
            encoder = after if isinstance(after, nn.BatchNorm2d) else down
            decoder = layers[-2] if isinstance(layers[-1], nn.Dropout) else layers[-1]
            decoder = decoder if i > 0 and isinstance(decoder, nn.BatchNorm2d) else None
            for module, width in ((encoder, shape.channels[i]),
                                  (decoder, shape.channels[i - 1] if i else 0)):
                if module is not None:
                    module.register_buffer("ch_mask", torch.ones(width, 1, 1))
                    module.register_forward_hook(_mask_channels)
            if block.skip:
                block.register_buffer("skip_mask", torch.ones(()))
                block.skip_width = shape.channels[i - 1]
                block.register_forward_hook(_mask_skip)
            self._levels.append((encoder, decoder, block))

    def set_member(self, genome: UNetGenome) -> None:
        """Set the masks so this network computes ``genome`` (its genes fit the shape)."""
        for i, (encoder, decoder, block) in enumerate(self._levels):
            for module, width in ((encoder, genome.channels[i]),
                                  (decoder, genome.channels[i - 1] if i else 0)):
                if module is not None:
                    module.ch_mask.zero_()
                    module.ch_mask[:width] = 1.0
            if block.skip:
                block.skip_mask.fill_(float(genome.skips[i - 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _mask_channels(module: nn.Module, inputs: Any, out: torch.Tensor) -> torch.Tensor:
    return out * module.ch_mask


def _mask_skip(module: nn.Module, inputs: Any, out: torch.Tensor) -> torch.Tensor:
    width = module.skip_width
    return torch.cat([out[:, :width] * module.skip_mask, out[:, width:]], 1)


def _stack(nets: list[nn.Module], device: torch.device) -> tuple[nn.Module, dict, dict]:
    """A meta-device template and the members' stacked parameters and buffers."""
    for net in nets:
        replace_all_batch_norm_modules_(net)
    params, buffers = stack_module_state([n.to(device) for n in nets])
    template = copy.deepcopy(nets[0]).to("meta")
    return template, params, buffers


def train_fused(task: Any, genomes: list[UNetGenome], shape: UNetGenome, a: torch.Tensor,
                b: torch.Tensor, device: torch.device) -> tuple[float, list[float]]:
    """Train the K ``genomes`` as one vmapped pix2pix; returns training seconds and each
    member's last generator loss."""
    k, n = len(genomes), len(a)
    gens = [torch.Generator().manual_seed(i) for i in range(k)]
    g_nets, d_nets = [], []
    for i, genome in enumerate(genomes):
        torch.manual_seed(i)
        g = MaskedUNet(shape, input_nc=a.shape[1], output_nc=b.shape[1])
        g.set_member(genome)
        g_nets.append(g)
        d_nets.append(PatchGANDiscriminator(a.shape[1] + b.shape[1], ndf=task.ndf))
    g_tpl, g_par, g_buf = _stack(g_nets, device)
    d_tpl, d_par, d_buf = _stack(d_nets, device)
    opt_g = torch.optim.Adam(list(g_par.values()), lr=task.lr, betas=(task.beta1, 0.999))
    opt_d = torch.optim.Adam(list(d_par.values()), lr=task.lr, betas=(task.beta1, 0.999))
    g_fn = vmap(lambda p, bu, x: functional_call(g_tpl, (p, bu), (x,)), randomness="different")
    d_fn = vmap(lambda p, bu, x: functional_call(d_tpl, (p, bu), (x,)), randomness="different")
    dtype = T.amp_dtype(device)  # as the task: bfloat16 autocast on CUDA, none on CPU
    if dtype == torch.float16:
        raise SystemExit("this GPU has no bfloat16; the fused loop has no float16 loss scaling")
    d_loss = vmap(P.discriminator_loss)
    g_loss = vmap(lambda p, f, y: P.generator_loss(p, f, y, task.lam))
    _sync(device)
    start = time.perf_counter()
    for _ in range(task.epochs):
        orders = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        for i in range(0, n, task.batch_size):
            idx = orders[:, i:i + task.batch_size]
            x, y = a[idx], b[idx]  # (K, B, C, H, W): each member its own minibatch
            with T.autocast(device, dtype):
                fake = g_fn(g_par, g_buf, x)
                p_fake = d_fn(d_par, d_buf, torch.cat([x, fake.detach()], 2))
                p_real = d_fn(d_par, d_buf, torch.cat([x, y], 2))
                loss_d = d_loss(p_fake, p_real).sum()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            frozen = {name: t.detach() for name, t in d_par.items()}  # D frozen for G's step
            with T.autocast(device, dtype):
                losses = g_loss(d_fn(frozen, d_buf, torch.cat([x, fake], 2)), fake, y)
            opt_g.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt_g.step()
    _sync(device)
    return time.perf_counter() - start, [float(v) for v in losses.detach().cpu()]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _lists(space: Any, seed: int, k: int) -> dict[str, tuple[list[UNetGenome], UNetGenome]]:
    """Each mode's ``k`` genomes (its rows train the first K) and the shape they train at:
    ``padded``, random genomes at the all-widest shape; ``skips``, the first random genome's
    channel code with random skips, at that code with every skip."""
    rng = random.Random(seed)
    padded = [space.random_genome(rng) for _ in range(k)]
    channels, ones = padded[0].channels, tuple(1 for _ in range(space.depth - 1))
    skips = [UNetGenome(channels, tuple(rng.randint(0, 1) for _ in range(space.depth - 1)))
             for _ in range(k)]
    widest = UNetGenome(tuple(max(space.choices) for _ in range(space.depth)), ones)
    return {"skips": (skips, UNetGenome(channels, ones)), "padded": (padded, widest)}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    torch.set_num_threads(args.threads)
    cfg = task_config("unet")
    if args.epochs is not None:
        cfg["task"]["epochs"] = args.epochs
    settings = Settings.from_config(cfg)
    space, task = settings.space, settings.build_task()
    task.device = args.device
    device = torch.device(args.device)
    data = task.data()
    a, b = data.a_train.to(device), data.b_train.to(device)
    lists = _lists(space, args.seed, max(args.ks))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            genomes, shape = lists[mode]
            alone = []  # (train seconds, MACs) of each genome trained alone with seed i
            for i, genome in enumerate(genomes):
                ev = task.evaluate(genome, seed=i, workdir=Path(tmp))
                alone.append((ev.measurements["train_seconds"], ev.measurements["macs"]))
                print(f"... {mode}: {genome} alone: {alone[-1][0]:.1f} s", flush=True)
            shape_macs = task.network_cost(shape).macs
            for k in args.ks:
                wall, losses = train_fused(task, genomes[:k], shape, a, b, device)
                if not all(v == v for v in losses):
                    raise SystemExit(f"fused {mode} K={k}: a member's loss is NaN")
                solo = sum(t for t, _ in alone[:k])
                macs = sum(m for _, m in alone[:k]) / k
                rows.append((mode, k, solo, wall, shape_macs / macs))
                print(f"... fused {mode} K={k}: {wall:.1f} s", flush=True)
    name = cpu_model() if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"U-Net pix2pix ({space}, {task.image_size}x{task.image_size}, {task.epochs} "
          f"mini-epochs of {len(a)} crops, batch {task.batch_size}); {args.device} {name}, "
          f"{args.threads} threads")
    print(f"{'mode':<8} {'K':>3} {'alone s':>8} {'fused s':>8} {'alone/h':>8} {'fused/h':>8} "
          f"{'ratio':>6} {'MACs x':>7}")
    for mode, k, solo, wall, macs_x in rows:
        print(f"{mode:<8} {k:>3} {solo:>8.1f} {wall:>8.1f} {k * 3600 / solo:>8.0f} "
              f"{k * 3600 / wall:>8.0f} {solo / wall:>6.2f} {macs_x:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
