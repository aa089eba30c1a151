"""Fused training: K Genetic-CNN genomes trained as one network, each with its own result.

The network is :class:`~nasga.models.genetic_cnn_fused.FusedGeneticCNN` (the §3.1.1 decoding as
masks over grouped convolutions). :func:`train_fused` reproduces, per member, the unfused
training of :meth:`ClassificationTask._train <nasga.tasks.classification.ClassificationTask>`:

* the member's initial weights are those its network got when built alone under its seed;
* its data order comes from its own shuffling generator (one ``randperm`` per epoch), so the
  members' batches are gathered separately and stacked along channels;
* its dropout masks come from its own generator, in the state the global RNG had right after
  its network was built (where the unfused training draws them from);
* the loss is the SUM of the members' mean cross-entropies, so each member's gradient is its
  own; SGD with momentum and weight decay is elementwise, hence per member;
* a non-finite loss fails that member only (with the unfused message); the others go on.

docs/design.md ("Fused training") states the contract and its measured gap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from nasga.data import ClassificationData
from nasga.errors import NasgaInputError
from nasga.evaluation.flops import Cost
from nasga.models.genetic_cnn import GeneticCNN
from nasga.models.genetic_cnn_fused import FusedGeneticCNN
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace
import nasga.tasks._torch as T
from nasga.tasks.base import Evaluation, EvaluationError


@dataclass
class Member:
    """One genome of a fused training, prepared exactly as its unfused training would be.

    Attributes:
        model: Its network as built alone under its seed; receives the trained weights.
        shuffle: Its data-order generator (from :func:`nasga.tasks._torch.seed_everything`).
        dropout: Its dropout generator (see :func:`global_rng_generator`).
    """

    model: GeneticCNN
    shuffle: torch.Generator
    dropout: torch.Generator


@dataclass(frozen=True)
class SGDSettings:
    """The optimiser and schedule every member shares.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Images per member per step.
        momentum: SGD momentum.
        weight_decay: L2 weight decay.
        learning_rate: ``(step, total steps) → rate`` (paper 004 §4.1.1's stepped schedule).
    """

    epochs: int
    batch_size: int
    momentum: float
    weight_decay: float
    learning_rate: Callable[[int, int], float]


def global_rng_generator(device: torch.device) -> torch.Generator:
    """A generator in the global RNG's current state on ``device``'s type.

    Captured right after a member's network is built, it yields on CPU the dropout masks that
    the unfused training draws (``nn.Dropout`` reads the global RNG). On CUDA the unfused
    dropout is a fused kernel, so the masks are the member's own but not the same ones.
    """
    gen = torch.Generator(device=device)
    gen.set_state(torch.cuda.get_rng_state(device) if device.type == "cuda"
                  else torch.get_rng_state())
    return gen


def train_fused(members: Sequence[Member], x: torch.Tensor, y: torch.Tensor,
                device: torch.device, sgd: SGDSettings) -> tuple[list[float | EvaluationError],
                                                                  float]:
    """Train ``members`` as one fused network; store each finite member's trained weights.

    Args:
        members: The genomes, prepared (same shape and stages).
        x: Training images on ``device``.
        y: Their labels on ``device``.
        device: Where to train.
        sgd: The shared optimiser settings.

    Returns:
        Per member, its last epoch's mean training loss, or the :class:`EvaluationError` of its
        first non-finite loss; and the wall-clock seconds of the whole fused training.
    """
    fused = T.to_device(FusedGeneticCNN.from_models([m.model for m in members]), device)
    fused.dropout.generators = [m.dropout for m in members]
    opt = torch.optim.SGD(fused.parameters(), lr=sgd.learning_rate(0, 1), momentum=sgd.momentum,
                          weight_decay=sgd.weight_decay)
    dtype = T.amp_dtype(device)
    n = len(y)
    per_epoch = math.ceil(n / sgd.batch_size)
    total = sgd.epochs * per_epoch
    results: list[float | EvaluationError] = [math.nan] * len(members)
    fused.train()
    T.synchronize(device)
    start = time.perf_counter()
    for epoch in range(sgd.epochs):
        orders = torch.stack([torch.randperm(n, generator=m.shuffle) for m in members])
        orders = orders.to(device)
        losses = []
        for i in range(per_epoch):
            for group in opt.param_groups:
                group["lr"] = sgd.learning_rate(epoch * per_epoch + i, total)
            with T.autocast(device, dtype):
                loss, reported = member_losses(fused, x, y, orders[:, i * sgd.batch_size:
                                                                  (i + 1) * sgd.batch_size])
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()  # the sum: each member's gradient is its own loss's
            opt.step()
            losses.append(reported)
        _end_epoch(torch.stack(losses).cpu(), epoch, results)
    T.synchronize(device)
    seconds = time.perf_counter() - start
    for k, member in enumerate(members):
        if not isinstance(results[k], EvaluationError):
            fused.store_member(k, member.model)
    return results, seconds


def member_losses(fused: FusedGeneticCNN, x: torch.Tensor, y: torch.Tensor,
                  idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each member's mean cross-entropy on its own batch ``x[idx[k]]``, shape ``(K,)``, twice:
    to differentiate (its gradients are the unfused loss's, bitwise), and to report, reduced
    member by member as ``nn.CrossEntropyLoss`` reduces it (a batched mean may round apart)."""
    k, b = idx.shape
    batch = x[idx.reshape(-1)].view(k, b, *x.shape[1:])
    batch = batch.transpose(0, 1).reshape(b, k * x.shape[1], *x.shape[2:])  # member k: channels
    log_p = F.log_softmax(fused(batch).reshape(k * b, -1).float(), dim=1)
    targets = y[idx].reshape(-1)
    loss = F.nll_loss(log_p, targets, reduction="none").view(k, b).mean(1)
    with torch.no_grad():
        reported = torch.stack([F.nll_loss(lp, t)
                                for lp, t in zip(log_p.split(b), targets.split(b))])
    return loss, reported


def _end_epoch(values: torch.Tensor, epoch: int,
               results: list[float | EvaluationError]) -> None:
    """Fold an epoch's ``steps × members`` losses into ``results`` (a failure is kept)."""
    for k, before in enumerate(results):
        if isinstance(before, EvaluationError):
            continue
        column = values[:, k : k + 1].clone()  # steps × 1, as the unfused LossMonitor holds it
        error = T.nonfinite_error(column, ("loss",), epoch)
        results[k] = error if error is not None else float(column.mean(0))


class FusedEvaluation:
    """``evaluate_many`` for a Genetic-CNN classification task (mixed into
    :class:`~nasga.tasks.classification.ClassificationTask`, whose evaluation it shares).

    The task provides its settings, ``data()``, ``build()``, ``evaluate()``, and the steps an
    unfused evaluation is made of: ``_prepare`` (seed, fit check, build, count), ``_tensors``,
    ``_validate`` and ``_measurements``.
    """

    space: GeneticCNNSpace
    device: str
    epochs: int
    batch_size: int
    momentum: float
    weight_decay: float

    def evaluate_many(self, genomes: Sequence[GeneticCNNGenome], *, seeds: Sequence[int],
                      workdir: Path) -> list[Evaluation | EvaluationError]:
        """Train ``genomes`` as one fused network (issue 28).

        Each member's measurements have :meth:`~nasga.tasks.classification.ClassificationTask.evaluate`'s keys and, on CPU, bitwise its
        values for the same seed at the same thread count (docs/design.md, "Fused training");
        ``train_seconds`` is the fused training's wall-clock divided by the number of members.

        Returns:
            Per genome, its :class:`Evaluation` or the :class:`EvaluationError` that failed it
            alone (non-finite loss, too big); running out of memory fails every member.

        Raises:
            NasgaInputError: A genome not from this task's space, or not one seed per genome.
        """
        if len(seeds) != len(genomes):
            raise NasgaInputError("seeds",
                                  f"need one per genome ({len(genomes)}), got {len(seeds)}")
        for genome in genomes:
            self.space.to_vector(genome)
        device = T.resolve_device(self.device)
        if T.grad_scaler(device, T.amp_dtype(device)).is_enabled():  # one scaler couples members
            return [self._evaluate_or_error(g, s, workdir) for g, s in zip(genomes, seeds)]
        data = self.data()
        prepared = [self._member(g, s, data, device) for g, s in zip(genomes, seeds)]
        ready = [p for p in prepared if not isinstance(p, EvaluationError)]
        try:
            with T.oom_as_evaluation_error(device):
                done = iter(self._train_fused(ready, data, device))
        except EvaluationError as exc:  # out of memory, or too big together: every member
            done = iter([exc] * len(ready))
        return [p if isinstance(p, EvaluationError) else next(done) for p in prepared]

    def _member(self, genome: GeneticCNNGenome, seed: int, data: ClassificationData,
                device: torch.device) -> tuple[Member, Cost] | EvaluationError:
        """A genome prepared as its unfused evaluation prepares it, or why it cannot train."""
        try:
            gen, model, cost = self._prepare(genome, seed, data, device)
        except EvaluationError as exc:
            return exc
        return Member(model, gen, global_rng_generator(device)), cost

    def _train_fused(self, ready: list[tuple[Member, Cost]], data: ClassificationData,
                     device: torch.device) -> list[Evaluation | EvaluationError]:
        """Train prepared members fused, then validate each in its unfused network."""
        if not ready:
            return []
        full = self.space.genome([1] * self.space.n_bits)  # every node a member may compute
        shape = (data.in_channels, data.image_size, data.image_size)
        T.check_fits(f"{len(ready)} fused genomes", [(lambda: self.build(full, data), shape)],
                     batch=min(self.batch_size, len(data.x_train)), device=device,
                     copies=len(ready))
        x_tr, y_tr, x_va, y_va = self._tensors(data, device)
        sgd = SGDSettings(self.epochs, self.batch_size, self.momentum, self.weight_decay,
                          self.learning_rate)
        losses, seconds = train_fused([m for m, _ in ready], x_tr, y_tr, device, sgd)
        out: list[Evaluation | EvaluationError] = []
        for (member, cost), loss in zip(ready, losses):
            if isinstance(loss, EvaluationError):
                out.append(loss)
                continue
            model = T.to_device(member.model, device)
            try:
                val = self._validate(model, x_va, y_va, device)
            except EvaluationError as exc:
                out.append(exc)
                continue
            share = seconds / len(ready)  # each member's part of the fused wall-clock
            out.append(Evaluation(self._measurements(cost, loss, val, share, data, device),
                                  model=model))
        return out

    def _evaluate_or_error(self, genome: GeneticCNNGenome, seed: int,
                           workdir: Path) -> Evaluation | EvaluationError:
        try:
            return self.evaluate(genome, seed=seed, workdir=workdir)
        except EvaluationError as exc:
            return exc
