"""Tiny learning-curve tables built in tests: a cheap stand-in trainer, no torch."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from nasga.bench.build import assemble, run_shard
from nasga.bench.table import BenchTable
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace
from nasga.tasks.base import Evaluation, Report


class FakeTrainer:
    """A "training" whose accuracy rises towards a genome-dependent level with seeded noise;
    reports every epoch as :class:`~nasga.tasks.classification.ClassificationTask` does.

    Args:
        epochs: Epochs per training.
        off_by: Added to the final accuracy only (a trainer whose curve does not end at its
            result, which the builder must refuse).
    """

    def __init__(self, space: GeneticCNNSpace, epochs: int, off_by: float = 0.0) -> None:
        self.space, self.epochs, self.off_by = space, epochs, off_by
        self.calls = 0

    def evaluate(self, genome: GeneticCNNGenome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        self.calls += 1
        bits = self.space.to_vector(genome)
        level = 0.5 + 0.45 * sum(bits) / max(len(bits), 1)
        rng = random.Random(seed)
        cost = {"macs": 1000 + 10 * sum(bits), "params": 50 + len(bits)}
        acc = loss = 0.0
        for epoch in range(1, self.epochs + 1):
            acc = level * (1 - math.exp(-epoch / 2)) + rng.gauss(0, 0.03)
            loss = 2.0 * (1 - acc) + rng.random() * 0.01
            if report is not None:
                report(epoch, {"val_accuracy": acc, "val_loss": loss, **cost})
        return Evaluation({"val_accuracy": acc + self.off_by, "val_loss": loss,
                           "train_loss": loss / 2, "train_seconds": 0.1 * self.epochs, **cost})


def settings(stages: tuple[int, ...], *, repeats: int = 3, epochs: int = 5,
             curves: bool = True) -> dict[str, Any]:
    """Builder settings of a tiny table (the task settings are recorded, never used)."""
    out: dict[str, Any] = {"stages": list(stages), "repeats": repeats,
                           "task": {"dataset": "fake", "epochs": epochs}}
    if curves:
        out["curves"] = True
    return out


def build_tiny(out: Path, stages: tuple[int, ...] = (2, 2), *, repeats: int = 3,
               epochs: int = 5, curves: bool = True) -> BenchTable:
    """Build and write a tiny table at ``out`` with :class:`FakeTrainer`."""
    s = settings(stages, repeats=repeats, epochs=epochs, curves=curves)
    trainer = FakeTrainer(GeneticCNNSpace(stages), epochs)
    run_shard(out, settings=s, task=trainer, log=lambda line: None)
    return assemble(out, settings=s)
