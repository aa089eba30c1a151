"""U-Net translation task: pix2pix mini-training, fitness ``1 / (L_Gen + γ·p(q))`` (paper 000).

An evaluation (paper 000 §3.3–3.4, Alg. 1 lines 3–5) builds the genome's
:class:`~nasga.models.UNetGenerator` and pix2pix's 70×70 PatchGAN, counts the generator's MACs
per image with thop, trains both for a few *mini-epochs* on the mini training subset exactly as
pix2pix does (Adam 2e-4, β1 0.5; D: vanilla GAN loss, halved; G: GAN loss + λ·L1, λ = 100),
then measures on the mini validation subset, with both networks in eval mode: ``l_gan`` (eq. 6),
``l1`` (eq. 2), ``l_gen`` (eq. 8), ``psnr`` and ``ssim`` — the losses and metrics are defined
in :mod:`nasga.tasks.pix2pix_losses`.

Fitness (eq. 7, :func:`nasga.tasks.pix2pix_losses.fitness`): ``f(q) = 1 / (l_gen + γ·p(q))``
with ``p(q) = macs / 1e9``, the generator's true MACs per image at ``image_size``, **in GMACs**
(1 MAC = one multiply-accumulate ≈ 2 FLOPs).
:meth:`TranslationTask.fitness` reads only the stored measurements and ``self.gamma``, so a
study can be re-scored with another γ without retraining.

Default γ = 40 (:data:`DEFAULT_GAMMA`) for the default CPU study; its calibration and the
paper's γ scale are in :mod:`nasga.tasks.pix2pix_losses`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nasga.data import (
    PHOTO_TASKS,
    PairedImages,
    check_aligned_folder,
    load_aligned_folder,
    load_photo_pairs,
)
from nasga.data.checks import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_EXAMPLES,
    MAX_LR,
    MAX_WEIGHT,
    WHY_BATCH,
    WHY_EPOCHS,
    WHY_EXAMPLES,
    check_int,
    check_optional_int,
)
from nasga.data.translation import MAX_IMAGE_SIZE
from nasga.errors import check_number
from nasga.evaluation.budget import BudgetedTask, CostBudget
from nasga.evaluation.flops import Cost, measure
from nasga.models import PatchGANDiscriminator, UNetGenerator
from nasga.spaces import NasgaInputError, UNetGenome, UNetSpace
from nasga.spaces.genomes import MAX_CHANNELS
import nasga.tasks._torch as T
from nasga.tasks.base import Evaluation, EvaluationError, Report
import nasga.tasks.pix2pix_losses as P

DATASETS = ("photos", "aligned")
DIRECTIONS = ("AtoB", "BtoA")
GRID_FILE = "validation_grid.png"
DEFAULT_GAMMA = 40.0


class TranslationTask(BudgetedTask):
    """pix2pix mini-training of U-Net genomes; fitness = ``1 / (L_Gen + γ·GMACs)`` (paper 000).

    Args:
        space: The U-Net space; ``image_size`` must be divisible by ``2^space.depth``.
        dataset: ``"photos"`` (built-in scikit-image photo pairs, no download) or
            ``"aligned"`` (a pix2pix A|B folder such as facades, under ``data_root``).
        data_root: The aligned folder (holding ``train/`` and ``val/``); required for aligned.
        direction: Aligned folders: ``"BtoA"`` (facades: labels → photo) or ``"AtoB"``.
        photo_task: Built-in photos: ``"grey2colour"`` or ``"edges2photo"`` (the loader's
            ``task`` argument).
        image_size: Side of the square images; MACs are counted at this size.
        epochs: Mini-epochs over the mini training subset.
        batch_size: Minibatch size.
        lr: Adam learning rate of G and D (pix2pix: 2e-4).
        beta1: Adam β1 (pix2pix: 0.5).
        lam: λ, the L1 weight in G's loss and in ``L_Gen`` (eq. 3, 8; paper: 100).
        gamma: γ, the cost weight per GMAC in the fitness (eq. 7; see the module docstring).
        max_macs: Hard budget on the generator's MACs per image (:mod:`nasga.evaluation.budget`): a genome
            over it is never trained. ``None``: no bound.
        max_params: Hard budget on the generator's parameters. ``None``: no bound.
        ndf: Filters of the PatchGAN's first layer (pix2pix: 64).
        max_train: Mini training subset size (photos: crops drawn, the loader's ``n_train``;
            aligned: first N pairs). The measurement ``n_train`` is the number used.
        max_val: Mini validation subset size (the loader's ``n_val``; measurement ``n_val``).
        data_seed: Seed of the built-in photo crops (fixed, so every genome sees the same data).
        device: ``"auto"`` (CUDA if present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        grid_images: Validation examples in the saved PNG grid (0: no grid).

    Raises:
        NasgaInputError: On a bad setting (the message names the field).
    """

    name = "unet"
    #: The measurements a study may name as objectives (``[study] objectives``).
    measurement_names = ("l_gen", "l_gan", "l1", "l_gan_eq6", "psnr", "ssim", "macs",
                         "conv_macs", "paper_macs", "params", "train_d_loss", "train_g_loss",
                         "train_seconds", "images_per_second")

    def __init__(
        self,
        space: UNetSpace,
        *,
        dataset: str = "photos",
        data_root: str | Path | None = None,
        direction: str = "BtoA",
        photo_task: str = "grey2colour",
        image_size: int = 64,
        epochs: int = 5,
        batch_size: int = 8,
        lr: float = 2e-4,
        beta1: float = 0.5,
        lam: float = 100.0,
        gamma: float = DEFAULT_GAMMA,
        max_macs: float | None = None,
        max_params: float | None = None,
        ndf: int = 32,
        max_train: int | None = 64,
        max_val: int | None = 32,
        data_seed: int = 0,
        device: str = "auto",
        grid_images: int = 4,
    ) -> None:
        if not isinstance(space, UNetSpace):
            raise NasgaInputError("space", f"the unet task needs a UNetSpace, got {space!r}")
        self._set_data(space, dataset, data_root, direction, photo_task, image_size)
        self._set_training(epochs=epochs, batch_size=batch_size, lr=lr, beta1=beta1, lam=lam,
                           gamma=gamma, max_macs=max_macs, max_params=max_params, ndf=ndf)
        self._set_subsets(max_train, max_val, data_seed)
        self.device = T.check_device(device)
        self.grid_images = check_int("grid_images", grid_images, minimum=0)
        self._on_device: tuple[str, tuple[torch.Tensor, ...]] | None = None

    def _set_data(self, space: UNetSpace, dataset: str, data_root: str | Path | None,
                  direction: str, photo_task: str, image_size: int) -> None:
        """The dataset, its folder, direction or photo task, and the image size."""
        if dataset not in DATASETS:
            raise NasgaInputError("dataset", f"must be one of {DATASETS}, got {dataset!r}")
        if dataset == "aligned" and data_root is None:
            raise NasgaInputError("data_root", "the aligned dataset needs its folder (train/, val/)")
        if data_root is not None and not isinstance(data_root, (str, Path)):
            raise NasgaInputError("data_root", f"must be a path, got {data_root!r}")
        if direction not in DIRECTIONS:
            raise NasgaInputError("direction", f"must be one of {DIRECTIONS}, got {direction!r}")
        if photo_task not in PHOTO_TASKS:
            raise NasgaInputError("photo_task", f"must be one of {PHOTO_TASKS}, got {photo_task!r}")
        self.space = space
        self.image_size = check_int("image_size", image_size, minimum=1, maximum=MAX_IMAGE_SIZE,
                                    why="the largest image the loaders resize to")
        space.check_image_size(self.image_size)
        self.dataset = dataset
        self.data_root = None if data_root is None else str(data_root)
        self.direction = direction
        self.photo_task = photo_task

    def _set_training(self, *, epochs: int, batch_size: int, lr: float, beta1: float, lam: float,
                      gamma: float, max_macs: float | None, max_params: float | None,
                      ndf: int) -> None:
        """The mini-training's settings, γ and the cost budget."""
        self.epochs = check_int("epochs", epochs, minimum=1, maximum=MAX_EPOCHS, why=WHY_EPOCHS)
        self.batch_size = check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE,
                                    why=WHY_BATCH)
        self.lr = check_number("lr", lr, strict=True, high=MAX_LR)
        self.beta1 = check_number("beta1", beta1, high=1.0)
        self.lam = check_number("lam", lam, high=MAX_WEIGHT)
        self.gamma = check_number("gamma", gamma)
        self.budget = CostBudget(max_macs, max_params)
        self.ndf = check_int("ndf", ndf, minimum=1, maximum=MAX_CHANNELS,
                             why="a bound against typos: pix2pix uses 64")

    def _set_subsets(self, max_train: int | None, max_val: int | None, data_seed: int) -> None:
        """The mini training and validation subsets' sizes (the photos loader's ``n_train`` and
        ``n_val``) and the seed of the photo crops."""
        self.max_train = check_optional_int("max_train", max_train, maximum=MAX_EXAMPLES,
                                            why=WHY_EXAMPLES)
        self.max_val = check_optional_int("max_val", max_val, maximum=MAX_EXAMPLES,
                                          why=WHY_EXAMPLES)
        if self.dataset == "photos" and (self.max_train is None or self.max_val is None):
            raise NasgaInputError("max_train" if self.max_train is None else "max_val",
                                  "the photos dataset draws crops: give a number, not None")
        if self.dataset == "photos" and self.image_size < 8:
            raise NasgaInputError("image_size", "the photos dataset crops at least 8x8 pixels, "
                                  f"got {self.image_size}")
        self.data_seed = check_int("data_seed", data_seed, minimum=0)

    # --- data --------------------------------------------------------------------------------
    def check_data(self) -> None:
        """Everything a run can check before its first trial (the command line calls it before
        touching storage): the aligned folder and its ``train/``, ``val/``, then every image the
        run reads, opened and fully decoded as an even-width A|B pair (the decoded pairs are
        cached, so the first trial does not read them again); the device; and that the space's
        smallest genome fits in memory at ``image_size`` and ``batch_size``.

        Raises:
            NasgaInputError: ``data_root`` naming the missing folder or the bad file;
                ``device``; ``image_size`` when not even the smallest genome fits.
        """
        device = T.device_of(self.device)
        if self.dataset == "aligned":
            assert self.data_root is not None
            check_aligned_folder(self.data_root)
        n_train = len(self.data().a_train)
        smallest = self.space.genome([0] * (2 * self.space.depth - 1))
        self.check_budget(smallest)
        try:
            self._check_fits(smallest, 3, 3, device, n_train)
        except EvaluationError as exc:
            raise NasgaInputError("image_size", f"even the smallest genome of the space: {exc}") \
                from None

    def _check_fits(self, genome: UNetGenome, in_ch: int, out_ch: int,
                    device: torch.device, n_train: int) -> None:
        """Refuse a genome whose training step would not fit in ``device``'s memory at the
        step's batch (``batch_size``, or every training image when there are fewer)."""
        size = self.image_size
        T.check_fits(genome.to_string(), [
            (lambda: UNetGenerator(genome, input_nc=in_ch, output_nc=out_ch), (in_ch, size, size)),
            (lambda: PatchGANDiscriminator(in_ch + out_ch, ndf=self.ndf),
             (in_ch + out_ch, size, size)),
        ], batch=min(self.batch_size, n_train), device=device)

    def data(self) -> PairedImages:
        """The mini train/validation subsets (loaded once per process by :mod:`nasga.data`)."""
        if self.dataset == "photos":
            assert self.max_train is not None and self.max_val is not None
            return load_photo_pairs(image_size=self.image_size, task=self.photo_task,
                                    n_train=self.max_train, n_val=self.max_val,
                                    seed=self.data_seed)
        assert self.data_root is not None
        return load_aligned_folder(self.data_root, image_size=self.image_size,
                                   direction=self.direction, max_train=self.max_train,
                                   max_val=self.max_val)

    def _tensors(self, data: PairedImages, device: torch.device) -> tuple[torch.Tensor, ...]:
        if self._on_device is None or self._on_device[0] != str(device):
            tensors = (data.a_train, data.b_train, data.a_val, data.b_val)
            self._on_device = (str(device), tuple(t.to(device) for t in tensors))
        return self._on_device[1]

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, genome: UNetGenome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        """Build, count MACs, mini-train G and D, mini-validate, save a validation grid; with
        ``report``, validate after every mini-epoch too and report it
        (:data:`~nasga.tasks.base.Report`).

        Raises:
            NasgaInputError: The genome is not from this task's space.
            EvaluationError: A loss became NaN/inf, or CUDA ran out of memory.
            StopTraining: ``report`` stopped the training.
        """
        self.space.to_vector(genome)  # validates that the genome belongs to the space
        device = T.resolve_device(self.device)
        data = self.data()
        gen = T.seed_everything(seed)
        self._check_fits(genome, data.input_channels, data.output_channels, device,
                         len(data.a_train))
        g_net = UNetGenerator(genome, input_nc=data.input_channels, output_nc=data.output_channels)
        d_net = PatchGANDiscriminator(data.input_channels + data.output_channels, ndf=self.ndf)
        cost = measure(g_net, (data.input_channels, self.image_size, self.image_size))
        with T.oom_as_evaluation_error(device):
            a_tr, b_tr, a_va, b_va = self._tensors(data, device)
            g_net, d_net = T.to_device(g_net, device), T.to_device(d_net, device)
            seen: dict[int, tuple[dict[str, float], torch.Tensor]] = {}

            def on_epoch(epoch: int) -> None:
                seen[epoch] = P.validate(g_net, d_net, a_va, b_va, device=device,
                                         batch_size=self.batch_size, lam=self.lam)
                report(epoch, {**seen[epoch][0], "macs": cost.macs,  # type: ignore[misc]
                               "paper_macs": cost.paper_macs, "params": cost.params})

            d_loss, g_loss, seconds = self._train(g_net, d_net, a_tr, b_tr, device, gen,
                                                  on_epoch if report is not None else None)
            val, fake = seen.get(self.epochs) or P.validate(
                g_net, d_net, a_va, b_va, device=device, batch_size=self.batch_size, lam=self.lam)
        files: list[Path] = []
        if self.grid_images:
            k = self.grid_images
            files.append(T.write_grid(Path(workdir) / GRID_FILE, [a_va[:k], fake[:k], b_va[:k]]))
        n_images = self.epochs * len(a_tr)
        return Evaluation({
            **val,
            "macs": cost.macs,
            "conv_macs": cost.conv_macs,
            "paper_macs": cost.paper_macs,
            "params": cost.params,
            "train_d_loss": d_loss,
            "train_g_loss": g_loss,
            "train_seconds": seconds,
            "images_per_second": n_images / seconds if seconds > 0 else float("nan"),
            "epochs": self.epochs,
            "n_train": int(len(a_tr)),
            "n_val": int(len(a_va)),
            "image_size": self.image_size,
            "device": str(device),
        }, files, model=g_net)

    def network_cost(self, genome: UNetGenome) -> Cost:
        """The generator's MACs per image and parameters at this task's image size."""
        data = self.data()
        g_net = UNetGenerator(genome, input_nc=data.input_channels, output_nc=data.output_channels)
        return measure(g_net, (data.input_channels, self.image_size, self.image_size))

    def _train(self, g_net: nn.Module, d_net: nn.Module, a: torch.Tensor, b: torch.Tensor,
               device: torch.device, gen: torch.Generator,
               on_epoch: Callable[[int], None] | None = None) -> tuple[float, float, float]:
        """pix2pix's ``optimize_parameters`` for every minibatch; returns D, G loss and seconds
        of training. ``on_epoch(e)`` runs after mini-epoch ``e`` (1-based), outside the timing."""
        opt_g = torch.optim.Adam(g_net.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        opt_d = torch.optim.Adam(d_net.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        dtype = T.amp_dtype(device)
        scaler = T.grad_scaler(device, dtype)
        monitor = T.LossMonitor("discriminator loss", "generator loss")
        g_net.train()
        d_net.train()
        n = len(a)
        T.synchronize(device)
        start = time.perf_counter()
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=gen).to(device)
            for i in range(0, n, self.batch_size):
                idx = order[i : i + self.batch_size]
                x, y = a[idx], b[idx]
                with T.autocast(device, dtype):
                    fake = g_net(x)
                # D: real pairs → 1, fake pairs → 0, loss halved (pix2pix backward_D).
                d_net.requires_grad_(True)
                with T.autocast(device, dtype):
                    p_fake = d_net(torch.cat([x, fake.detach()], 1))
                    p_real = d_net(torch.cat([x, y], 1))
                    loss_d = P.discriminator_loss(p_fake, p_real)
                opt_d.zero_grad(set_to_none=True)
                scaler.scale(loss_d).backward()
                scaler.step(opt_d)
                # G: fool D, plus λ·L1 (pix2pix backward_G); D is frozen.
                d_net.requires_grad_(False)
                with T.autocast(device, dtype):
                    p_fake = d_net(torch.cat([x, fake], 1))
                    loss_g = P.generator_loss(p_fake, fake, y, self.lam)
                opt_g.zero_grad(set_to_none=True)
                scaler.scale(loss_g).backward()
                scaler.step(opt_g)
                scaler.update()
                monitor.add(loss_d, loss_g)
            d_mean, g_mean = monitor.end_epoch(epoch)
            if on_epoch is not None:
                start += T.paused(device, lambda: on_epoch(epoch + 1))
                g_net.train()
                d_net.train()
                d_net.requires_grad_(True)
        T.synchronize(device)
        d_net.requires_grad_(True)
        return d_mean, g_mean, time.perf_counter() - start

    # --- fitness and settings ----------------------------------------------------------------
    #: Settings that change only the fitness, not what a training measures: studies that differ
    #: only in these reuse each other's trainings (``[study] reuse_from``).
    fitness_settings = ("gamma",)

    def cost_penalty(self, measurements: dict[str, Any]) -> float:
        """``γ·p(q)``: γ times the generator's GMACs per image (eq. 7)."""
        return P.cost_penalty(measurements["macs"], self.gamma)

    def fitness(self, measurements: dict[str, Any]) -> float:
        """Eq. 7: ``1 / (l_gen + γ·macs/1e9)``, from stored measurements and ``self.gamma``."""
        return P.fitness(measurements["l_gen"], measurements["macs"], self.gamma)

    def config(self) -> dict[str, Any]:
        """Settings that define the task; ``build_task(space, config())`` rebuilds it."""
        return {
            "task": self.name, "dataset": self.dataset, "data_root": self.data_root,
            "direction": self.direction, "photo_task": self.photo_task,
            "image_size": self.image_size, "epochs": self.epochs, "batch_size": self.batch_size,
            "lr": self.lr, "beta1": self.beta1, "lam": self.lam, "gamma": self.gamma,
            "max_macs": self.budget.max_macs, "max_params": self.budget.max_params,
            "ndf": self.ndf, "max_train": self.max_train, "max_val": self.max_val,
            "data_seed": self.data_seed, "device": self.device, "grid_images": self.grid_images,
        }

