"""A cheap task with a known optimum, for tests, benchmarks and worker experiments."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from nasga.data.checks import MAX_WEIGHT
from nasga.spaces import Genome, Space
from nasga.errors import NasgaInputError, check_int, check_number, is_int
from nasga.tasks.base import Evaluation, Report


def _ints(field: str, values: Any) -> list[int]:
    """``values`` as a list of integers (one gene each)."""
    if not isinstance(values, (list, tuple)) or not all(is_int(v) for v in values):
        raise NasgaInputError(field, f"must be a list of integers (one per gene), got {values!r}")
    return [int(v) for v in values]


class SyntheticTask:
    """Fitness = share of genes equal to a target vector (+ optional noise), no training.

    Args:
        space: The genome space.
        target: The optimum's gene vector (default: the space's all-ones / last-choice genome).
        noise: Standard deviation of Gaussian noise added per evaluation (seeded).
        sleep: Seconds each evaluation waits, to emulate a training of fixed duration.
        offset: Added to the fitness (keeps roulette fitness > 0).
        epochs: With a number, an evaluation is a "training" of that many epochs whose score
            grows linearly to its final value, reported after each epoch
            (:data:`~nasga.tasks.base.Report`; for pruning tests); ``None``: no epochs.
    """

    name = "synthetic"
    measurement_names = ("score", "macs", "params")  # objectives a study may name

    def __init__(self, space: Space, *, target: list[int] | None = None, noise: float = 0.0,
                 sleep: float = 0.0, offset: float = 0.1, epochs: int | None = None) -> None:
        self.space = space
        highs = [d.high for d in space.distributions.values()]  # type: ignore[attr-defined]
        if target is not None:
            genes = _ints("target", target)
            try:
                if len(genes) != len(highs):
                    raise NasgaInputError("target", f"needs {len(highs)} genes")
                space.from_params(dict(zip(space.distributions, genes)))
            except NasgaInputError as exc:
                raise NasgaInputError("target", f"must be a genome of the space ({exc}), got "
                                      f"{target!r}") from None
        self.target = list(target) if target is not None else highs
        self.noise = check_number("noise", noise, high=MAX_WEIGHT)
        self.sleep = check_number("sleep", sleep, high=3600.0)
        self.offset = check_number("offset", offset, low=-MAX_WEIGHT, high=MAX_WEIGHT)
        self.epochs = None if epochs is None else check_int("epochs", epochs)
        self.calls = 0

    @property
    def instant(self) -> bool:
        """No training and no sleep: a comparison buffers its runs in memory."""
        return not self.sleep

    def evaluate(self, genome: Genome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        self.calls += 1
        if self.sleep:
            time.sleep(self.sleep)
        vec = self.space.to_vector(genome)  # type: ignore[arg-type]
        score = sum(a == b for a, b in zip(vec, self.target)) / len(vec)
        if self.noise:
            score += random.Random(seed).gauss(0.0, self.noise)
        cost = {"macs": float(sum(vec)), "params": len(vec)}
        if self.epochs is not None and report is not None:
            for epoch in range(1, self.epochs + 1):
                report(epoch, {"score": score * epoch / self.epochs, **cost})
        return Evaluation({"score": score, **cost})

    def fitness(self, measurements: dict[str, Any]) -> float:
        return float(measurements["score"]) + self.offset

    def optimum(self) -> float:
        """Best noiseless fitness."""
        return 1.0 + self.offset

    def config(self) -> dict[str, Any]:
        out = {"task": self.name, "noise": self.noise, "sleep": self.sleep, "offset": self.offset}
        if self.epochs is not None:
            out["epochs"] = self.epochs
        return out
