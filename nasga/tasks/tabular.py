"""Task ``"genetic-cnn-bench"``: a tabular benchmark's recorded trainings looked up.

:class:`TabularTask` answers an evaluation from a :class:`~nasga.bench.table.BenchTable` (every
canonical key of a small Genetic-CNN space trained three times ahead of time): one recorded
repeat, chosen with ``random.Random(seed)``, in microseconds. Imports numpy, never torch.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from nasga.bench.table import DEFAULT_TABLE, BenchTable
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace, NasgaInputError
from nasga.tasks.base import Evaluation


class TabularTask:
    """Task ``"genetic-cnn-bench"``: answer evaluations from a :class:`BenchTable`.

    Args:
        space: A Genetic CNN space with the table's stages.
        table: A shipped table name or a path to an ``.npz`` (default: the (3,4) digits table).

    Raises:
        NasgaInputError: Missing table, or a space other than the table's.
    """

    name = "genetic-cnn-bench"
    space_name = "genetic-cnn"
    instant = True  # lookups, no training: a comparison buffers its runs in memory

    def __init__(self, space: GeneticCNNSpace, *, table: str = DEFAULT_TABLE) -> None:
        if not isinstance(table, (str, Path)):
            raise NasgaInputError("table", f"must be a table name or .npz path, got {table!r}")
        self.bench = BenchTable.load(table)
        if not isinstance(space, GeneticCNNSpace) or space.stages != self.bench.stages:
            raise NasgaInputError(
                "space", f"the benchmark table covers GeneticCNNSpace(stages={self.bench.stages}),"
                f" got {space!r}; set space.stages = {list(self.bench.stages)}")
        self.space = space
        self.table = str(table)
        self.calls = 0

    def evaluate(self, genome: GeneticCNNGenome, *, seed: int, workdir: Path) -> Evaluation:
        """One recorded training of the genome's key, the repeat chosen by ``Random(seed)``."""
        self.space.to_vector(genome)
        self.calls += 1
        i = self.bench.row(genome.key)
        r = random.Random(seed).randrange(self.bench.n_repeats)
        out: dict[str, Any] = {k: float(v[i, r]) for k, v in self.bench.repeats.items()}
        out.update({k: int(v[i]) for k, v in self.bench.per_key.items()})
        out["bench_repeat"] = r
        return Evaluation(out)

    def fitness(self, measurements: dict[str, Any]) -> float:
        """Validation accuracy, as the genetic-cnn task."""
        return float(measurements["val_accuracy"])

    def optimum(self) -> float:
        """The table's best mean accuracy over repeats."""
        return self.bench.optimum()

    def true_fitness(self, key: str) -> float:
        """A key's mean accuracy over its repeats (noiseless; for regret)."""
        return self.bench.mean_of(key)

    def config(self) -> dict[str, Any]:
        return {"task": self.name, "table": self.table}


__all__ = ["TabularTask"]
