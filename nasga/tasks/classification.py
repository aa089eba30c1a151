"""Genetic CNN task: train a genome's classifier, fitness = validation accuracy (paper 004).

An evaluation builds :class:`~nasga.models.GeneticCNN` from the genome, counts its MACs per
image with thop (:func:`nasga.evaluation.flops.measure`), trains it from scratch with SGD (momentum 0.9)
on the training split and reports accuracy on the held-out validation split — never on a test
split (paper 004 §4.1: "we leave out 10,000 images from the training set for validation").

Learning-rate schedule (paper 004 §4.1.1): the paper's stepped rates as relative phase lengths
(:mod:`nasga.tasks.schedule`), so the paper's shape fits a 10-epoch CPU schedule just as it fits
240 epochs.

CPU default (digits, 8×8×1, 1,438 training / 359 validation images): the paper's network
(filters 8/8/16, FC32, dropout 0.5), SGD lr 0.01 (the paper's), momentum 0.9, weight decay
5e-4, batch 32, 10 epochs (450 steps) with the paper's step shape. Measured on 2 CPU cores:
≈2.4 s of training per genome (≈6,000 images/s), validation accuracy 0.80–0.93 for paper 004's
Table 1 genome over 5 seeds and 0.82–0.92 for 5 random genomes (chance = 0.1). Shorter
schedules are noisier: 4 epochs give ≈0.5–0.7; a higher lr (0.02–0.05) was worse; without
dropout 6 epochs reach ≈0.9. For the paper's schedule pass ``epochs=240`` (e.g. on CIFAR-10).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nasga.data import (
    ClassificationData,
    check_cifar10_folder,
    load_cifar10_data,
    load_digits_data,
)
from nasga.data.checks import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_EXAMPLES,
    MAX_LR,
    WHY_BATCH,
    WHY_EPOCHS,
    WHY_EXAMPLES,
    check_fraction,
    check_int,
    check_optional_int,
)
from nasga.evaluation.budget import BudgetedTask, CostBudget
from nasga.evaluation.flops import Cost, measure
from nasga.models import GeneticCNN
from nasga.errors import check_number
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace, NasgaInputError
from nasga.spaces.genomes import MAX_CHANNELS
import nasga.tasks._torch as T
from nasga.tasks.base import Evaluation, EvaluationError, Report
from nasga.tasks.fused import FusedEvaluation
from nasga.tasks.schedule import PAPER_LR_STEPS, check_lr_steps, step_learning_rate

DATASETS = ("digits", "cifar10")


def _filters(filters: object) -> tuple[Any, ...]:
    """``filters`` as a non-empty tuple (its entries are checked with the training settings)."""
    filt = tuple(filters) if isinstance(filters, (list, tuple)) else ()
    if not filt:
        raise NasgaInputError("filters", f"must be a non-empty list of integers, got {filters!r}")
    return filt


class ClassificationTask(FusedEvaluation, BudgetedTask):
    """Train and validate Genetic CNN genomes (paper 004); fitness = validation accuracy.

    ``evaluate_many`` (:class:`~nasga.tasks.fused.FusedEvaluation`) trains several genomes as
    one fused network, each with the measurements ``evaluate`` gives it (docs/design.md).

    Args:
        space: The Genetic CNN space.
        dataset: ``"digits"`` (scikit-learn's bundled 8×8 digits, no download) or ``"cifar10"``
            (local pickle batches under ``data_root``).
        data_root: CIFAR-10 folder (``cifar-10-batches-py`` or its parent); required for cifar10.
        epochs: Training epochs per evaluation (paper: 240).
        lr: Learning rate of the first phase (paper: 1e-2).
        lr_steps: Relative lengths of the constant-rate phases (paper: 120, 60, 40, 20 epochs).
        lr_decay: Factor between phases (paper: 0.1).
        batch_size: SGD minibatch size.
        momentum: SGD momentum.
        weight_decay: L2 weight decay.
        filters: Filters per stage (paper: 8, 8, 16).
        dropout: Drop ratio before the classifier (paper: 0.5).
        val_fraction: Share of each class held out of the training data for validation.
        max_train: Keep at most this many training images (class-balanced); ``None``: all.
        max_val: cifar10 only: at most this many validation images.
        data_seed: Seed of the train/validation split (fixed, so every genome sees the same data).
        device: ``"auto"`` (CUDA if present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        max_macs: Hard budget on the network's MACs per image (:mod:`nasga.evaluation.budget`): a genome
            over it is never trained. ``None``: no bound.
        max_params: Hard budget on the network's parameters. ``None``: no bound.

    Raises:
        NasgaInputError: On a bad setting (the message names the field).
    """

    name = "genetic-cnn"
    #: The measurements a study may name as objectives (``[study] objectives``).
    measurement_names = ("val_accuracy", "val_loss", "train_loss", "macs", "conv_macs",
                         "params", "train_seconds", "images_per_second")

    def __init__(
        self,
        space: GeneticCNNSpace,
        *,
        dataset: str = "digits",
        data_root: str | Path | None = None,
        epochs: int = 10,
        lr: float = 0.01,
        lr_steps: Sequence[float] = PAPER_LR_STEPS,
        lr_decay: float = 0.1,
        batch_size: int = 32,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        filters: Sequence[int] = (8, 8, 16),
        dropout: float = 0.5,
        val_fraction: float = 0.2,
        max_train: int | None = None,
        max_val: int | None = None,
        data_seed: int = 0,
        device: str = "auto",
        max_macs: float | None = None,
        max_params: float | None = None,
    ) -> None:
        if not isinstance(space, GeneticCNNSpace):
            raise NasgaInputError("space", f"the genetic-cnn task needs a GeneticCNNSpace, got {space!r}")
        self.space = space
        self._set_data(dataset, data_root)
        steps, filt = check_lr_steps(lr_steps), _filters(filters)
        self._set_training(epochs=epochs, lr=lr, lr_steps=steps, lr_decay=lr_decay,
                           batch_size=batch_size, momentum=momentum, weight_decay=weight_decay,
                           filters=filt, dropout=dropout)
        self._set_split(val_fraction, max_train, max_val, data_seed)
        self.device = T.check_device(device)
        self.budget = CostBudget(max_macs, max_params)
        self._on_device: tuple[str, tuple[torch.Tensor, ...]] | None = None

    def _set_data(self, dataset: str, data_root: str | Path | None) -> None:
        """The dataset and its folder."""
        if dataset not in DATASETS:
            raise NasgaInputError("dataset", f"must be one of {DATASETS}, got {dataset!r}")
        if dataset == "cifar10" and data_root is None:
            raise NasgaInputError("data_root", "cifar10 needs the folder of its pickle batches")
        if data_root is not None and not isinstance(data_root, (str, Path)):
            raise NasgaInputError("data_root", f"must be a path, got {data_root!r}")
        self.dataset = dataset
        self.data_root = None if data_root is None else str(data_root)

    def _set_training(self, *, epochs: int, lr: float, lr_steps: tuple[float, ...],
                      lr_decay: float, batch_size: int, momentum: float, weight_decay: float,
                      filters: tuple[Any, ...], dropout: float) -> None:
        """The schedule, the optimiser's settings and the network's filters and dropout."""
        self.epochs = check_int("epochs", epochs, minimum=1, maximum=MAX_EPOCHS, why=WHY_EPOCHS)
        self.lr = check_number("lr", lr, strict=True, high=MAX_LR)
        self.lr_steps = lr_steps
        self.lr_decay = check_number("lr_decay", lr_decay, strict=True)
        if self.lr_decay > 1:
            raise NasgaInputError("lr_decay", f"must be in (0, 1] (each step multiplies the "
                                  f"learning rate by it), got {lr_decay!r}")
        self.batch_size = check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE,
                                    why=WHY_BATCH)
        self.momentum = check_number("momentum", momentum, high=1.0)
        self.weight_decay = check_number("weight_decay", weight_decay, high=1.0)
        self.filters = tuple(check_int("filters", f, minimum=1, maximum=MAX_CHANNELS,
                                       why="a bound against typos: the paper uses 8 to 16")
                             for f in filters)
        self.dropout = check_number("dropout", dropout, high=1.0)

    def _set_split(self, val_fraction: float, max_train: int | None, max_val: int | None,
                   data_seed: int) -> None:
        """The train/validation split: held-out share, subset sizes and seed."""
        self.val_fraction = check_fraction("val_fraction", val_fraction)
        self.max_train = check_optional_int("max_train", max_train, maximum=MAX_EXAMPLES,
                                            why=WHY_EXAMPLES)
        self.max_val = check_optional_int("max_val", max_val, maximum=MAX_EXAMPLES,
                                          why=WHY_EXAMPLES)
        self.data_seed = check_int("data_seed", data_seed, minimum=0)

    # --- data --------------------------------------------------------------------------------
    def check_data(self) -> None:
        """Everything a run can check before its first trial (the command line calls it before
        touching storage): the device; the CIFAR-10 folder, then every training batch the run
        reads, unpickled and checked for shapes, dtype and labels (the loaded data are cached,
        so the first trial does not read them again); and that the space's smallest genome
        fits in memory at ``batch_size``.

        Raises:
            NasgaInputError: ``device``; ``data_root`` naming the missing folder or bad file;
                ``batch_size`` when not even the smallest genome fits.
        """
        device = T.device_of(self.device)
        if self.dataset == "cifar10":
            assert self.data_root is not None
            check_cifar10_folder(self.data_root)
        data = self.data()
        smallest = self.space.genome([0] * self.space.n_bits)
        self.check_budget(smallest)
        try:
            self._check_fits(smallest, data, device)
        except EvaluationError as exc:
            raise NasgaInputError("batch_size", f"even the smallest genome of the space: {exc}") \
                from None

    def _check_fits(self, genome: GeneticCNNGenome, data: ClassificationData,
                    device: torch.device) -> None:
        """Refuse a genome whose training step would not fit in ``device``'s memory at the
        step's batch (``batch_size``, or every training image when there are fewer)."""
        T.check_fits(genome.to_string(), [
            (lambda: self.build(genome, data),
             (data.in_channels, data.image_size, data.image_size)),
        ], batch=min(self.batch_size, len(data.x_train)), device=device)

    def data(self) -> ClassificationData:
        """The dataset (loaded once per process by :mod:`nasga.data`)."""
        if self.dataset == "digits":
            return load_digits_data(
                val_fraction=self.val_fraction, seed=self.data_seed, max_train=self.max_train
            )
        assert self.data_root is not None
        return load_cifar10_data(
            self.data_root, val_fraction=self.val_fraction, seed=self.data_seed,
            max_train=self.max_train, max_val=self.max_val,
        )

    def _tensors(self, data: ClassificationData, device: torch.device) -> tuple[torch.Tensor, ...]:
        """Train/val tensors on ``device``, copied there once per task."""
        if self._on_device is None or self._on_device[0] != str(device):
            tensors = (data.x_train, data.y_train, data.x_val, data.y_val)
            self._on_device = (str(device), tuple(t.to(device) for t in tensors))
        return self._on_device[1]

    def fractions(self) -> tuple[float, ...]:
        """``lr_steps`` normalised to fractions of the training."""
        total = sum(self.lr_steps)
        return tuple(s / total for s in self.lr_steps)

    def learning_rate(self, step: int, total: int) -> float:
        """The rate at 0-based ``step`` of ``total``
        (:func:`~nasga.tasks.schedule.step_learning_rate`, §4.1.1)."""
        return step_learning_rate(step, total, self.lr, self.fractions(), self.lr_decay)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, genome: GeneticCNNGenome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        """Build, count MACs, train on the training split and validate one genome; with
        ``report``, validate after every epoch too and report it (:data:`~nasga.tasks.base.Report`).

        Raises:
            NasgaInputError: The genome is not from this task's space.
            EvaluationError: The loss became NaN/inf, or CUDA ran out of memory.
            StopTraining: ``report`` stopped the training.
        """
        self.space.to_vector(genome)  # validates that the genome belongs to the space
        device = T.resolve_device(self.device)
        data = self.data()
        gen, model, cost = self._prepare(genome, seed, data, device)
        with T.oom_as_evaluation_error(device):
            x_tr, y_tr, x_va, y_va = self._tensors(data, device)
            model = T.to_device(model, device)
            seen: dict[int, tuple[float, float]] = {}

            def on_epoch(epoch: int) -> None:
                seen[epoch] = self._validate(model, x_va, y_va, device)
                report(epoch, {"val_loss": seen[epoch][0],  # type: ignore[misc]
                               "val_accuracy": seen[epoch][1], "macs": cost.macs,
                               "params": cost.params})

            train_loss, seconds = self._train(model, x_tr, y_tr, device, gen,
                                              on_epoch if report is not None else None)
            val = seen.get(self.epochs) or self._validate(model, x_va, y_va, device)
        return Evaluation(self._measurements(cost, train_loss, val, seconds, data, device),
                          model=model)

    def _prepare(self, genome: GeneticCNNGenome, seed: int, data: ClassificationData,
                 device: torch.device) -> tuple[torch.Generator, nn.Module, Cost]:
        """Seed everything, check the fit, build and count: (shuffle generator, network, cost).

        The global RNG is left where the training's dropout draws start.
        """
        gen = T.seed_everything(seed)
        self._check_fits(genome, data, device)
        model = self.build(genome, data)
        return gen, model, measure(model, (data.in_channels, data.image_size, data.image_size))

    def _measurements(self, cost: Cost, train_loss: float, val: tuple[float, float],
                      seconds: float, data: ClassificationData,
                      device: torch.device) -> dict[str, Any]:
        """An evaluation's measurements (the trial's user attrs)."""
        n_train, n_val = len(data.y_train), len(data.y_val)
        return {
            "val_accuracy": val[1],
            "val_loss": val[0],
            "train_loss": train_loss,
            "macs": cost.macs,
            "conv_macs": cost.conv_macs,
            "params": cost.params,
            "train_seconds": seconds,
            "images_per_second": self.epochs * n_train / seconds if seconds > 0 else float("nan"),
            "epochs": self.epochs,
            "n_train": int(n_train),
            "n_val": int(n_val),
            "device": str(device),
        }

    def network_cost(self, genome: GeneticCNNGenome) -> Cost:
        """The network's MACs per image and parameters on this task's data."""
        data = self.data()
        return measure(self.build(genome, data),
                       (data.in_channels, data.image_size, data.image_size))

    def build(self, genome: GeneticCNNGenome, data: ClassificationData) -> nn.Module:
        """The genome's network for ``data``'s image shape and classes (paper 004 §4.1.1)."""
        return GeneticCNN(
            genome, in_channels=data.in_channels, n_classes=data.n_classes,
            filters=self.filters, image_size=data.image_size, dropout=self.dropout,
        )

    def _train(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               device: torch.device, gen: torch.Generator,
               on_epoch: Callable[[int], None] | None = None) -> tuple[float, float]:
        """SGD with the stepped schedule; returns (last epoch's mean loss, seconds of
        training). ``on_epoch(e)`` runs after epoch ``e`` (1-based), outside the timing."""
        opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.momentum,
                              weight_decay=self.weight_decay)
        dtype = T.amp_dtype(device)
        scaler = T.grad_scaler(device, dtype)
        loss_fn = nn.CrossEntropyLoss()
        n = len(y)
        per_epoch = math.ceil(n / self.batch_size)
        total = self.epochs * per_epoch
        monitor = T.LossMonitor("loss")
        model.train()
        T.synchronize(device)
        start = time.perf_counter()
        step = 0
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=gen).to(device)
            for i in range(per_epoch):
                idx = order[i * self.batch_size : (i + 1) * self.batch_size]
                for group in opt.param_groups:
                    group["lr"] = self.learning_rate(step, total)
                with T.autocast(device, dtype):
                    loss = loss_fn(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                monitor.add(loss)
                step += 1
            (train_loss,) = monitor.end_epoch(epoch)
            if on_epoch is not None:
                start += T.paused(device, lambda: on_epoch(epoch + 1))
                model.train()
        T.synchronize(device)
        return train_loss, time.perf_counter() - start

    @torch.no_grad()
    def _validate(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  device: torch.device) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) on the validation split, in eval mode."""
        model.eval()
        dtype = T.amp_dtype(device)
        losses, hits = [], []  # per batch, on the device: one host synchronisation at the end
        batch = max(self.batch_size, 256)
        for i in range(0, len(y), batch):
            with T.autocast(device, dtype):
                logits = model(x[i : i + batch]).float()
            losses.append(nn.functional.cross_entropy(logits, y[i : i + batch], reduction="sum"))
            hits.append((logits.argmax(1) == y[i : i + batch]).sum())
        loss_sum = sum(torch.stack(losses).tolist()) if losses else 0.0  # batch order, as floats
        correct = int(torch.stack(hits).sum()) if hits else 0
        val_loss = T.check_finite(loss_sum / len(y), "validation loss")
        return val_loss, correct / len(y)

    # --- fitness and settings ----------------------------------------------------------------
    def fitness(self, measurements: dict[str, Any]) -> float:
        """Validation accuracy (paper 004 §3.2.4: fitness is the recognition accuracy)."""
        return float(measurements["val_accuracy"])

    def config(self) -> dict[str, Any]:
        """Settings that define the task; ``build_task(space, config())`` rebuilds it."""
        return {
            "task": self.name, "dataset": self.dataset, "data_root": self.data_root,
            "epochs": self.epochs, "lr": self.lr, "lr_steps": list(self.lr_steps),
            "lr_decay": self.lr_decay, "batch_size": self.batch_size, "momentum": self.momentum,
            "weight_decay": self.weight_decay, "filters": list(self.filters), "dropout": self.dropout,
            "val_fraction": self.val_fraction, "max_train": self.max_train,
            "max_val": self.max_val, "data_seed": self.data_seed, "device": self.device,
            "max_macs": self.budget.max_macs, "max_params": self.budget.max_params,
        }

